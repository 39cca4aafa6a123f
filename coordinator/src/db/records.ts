/** The Swarm's writes to D1: node and model registration, and ledger rows. */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { ModelShard } from "../../../shared/protocol/messages.ts";
import { ledger, models, nodes } from "./schema.ts";

export type Db = ReturnType<typeof drizzle>;

export function openDb(d1: D1Database): Db {
  return drizzle(d1);
}

/** A driver error with the operation that failed; the cause is kept. */
export class DbError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`database: ${operation} failed: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

/** Record that a node logged in, and the models it announced, in one batch (all or nothing). */
export async function recordLogin(db: Db, nodeId: string, agentVersion: string, shards: ModelShard[], now: number) {
  try {
    await db.batch([
      db
        .insert(nodes)
        .values({ id: nodeId, agentVersion, firstSeenAt: now, lastSeenAt: now })
        .onConflictDoUpdate({ target: nodes.id, set: { agentVersion, lastSeenAt: now } }),
      ...shards.map((s) =>
        db.insert(models).values({ id: s.id, sha256: s.sha256, nLayers: s.nLayers, firstSeenAt: now }).onConflictDoNothing(),
      ),
    ]);
  } catch (err) {
    throw new DbError("recording a login", err);
  }
}

/** True when any agent has ever announced this model id. */
export async function isKnownModel(db: Db, modelId: string): Promise<boolean> {
  try {
    const rows = await db.select({ id: models.id }).from(models).where(eq(models.id, modelId)).limit(1);
    return rows.length > 0;
  } catch (err) {
    throw new DbError("looking up a model", err);
  }
}

export type LedgerRow = typeof ledger.$inferInsert;

/** Append one ledger row (a single INSERT: it is either fully there or not at all). */
export async function appendLedger(db: Db, row: LedgerRow): Promise<void> {
  try {
    await db.insert(ledger).values(row);
  } catch (err) {
    throw new DbError("appending to the ledger", err);
  }
}
