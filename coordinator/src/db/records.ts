/** The Swarm's reads and writes of D1 outside the log: nodes, models, consent contracts. */
import { eq } from "drizzle-orm";
import { drizzle } from "drizzle-orm/d1";
import type { SignedConsent } from "../../../shared/consent/signed-consent.ts";
import type { ModelShard } from "../../../shared/protocol/messages.ts";
import { consents, models, nodes } from "./schema.ts";

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

/** The consent contract a node last sent, if any. */
export async function storedConsent(db: Db, nodeId: string): Promise<SignedConsent | null> {
  try {
    const rows = await db.select({ signed: consents.signed }).from(consents).where(eq(consents.nodeId, nodeId)).limit(1);
    return rows[0] ? (JSON.parse(rows[0].signed) as SignedConsent) : null;
  } catch (err) {
    throw new DbError("reading a consent contract", err);
  }
}

/** Store a node's consent contract in force (replacing the one before). */
export async function saveConsent(db: Db, signed: SignedConsent, now: number): Promise<void> {
  const row = {
    nodeId: signed.body.node,
    signed: JSON.stringify(signed),
    issuedAt: signed.body.issued_at,
    revoked: signed.body.contract.revoked,
    updatedAt: now,
  };
  try {
    await db.insert(consents).values(row).onConflictDoUpdate({ target: consents.nodeId, set: row });
  } catch (err) {
    throw new DbError("storing a consent contract", err);
  }
}
