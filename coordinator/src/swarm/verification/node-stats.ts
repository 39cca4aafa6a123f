/**
 * Each node's Proof of Useful Work standing (docs/verification.md, "Node statistics"): in memory
 * for the Swarm's synchronous decisions, written to D1 (`node_stats`) whenever a verdict changes
 * it, and read back when a node logs in, so an exclusion outlives restarts.
 */
import { eq, inArray } from "drizzle-orm";
import { type Db, DbError } from "../../db/records.ts";
import { nodeStats } from "../../db/schema.ts";
import type { Standing } from "./check-rate.ts";

export interface NodeRecord extends Standing {
  nodeId: string;
  steps: number;
  credits: number;
  failedChecks: number;
  checksSkipped: number;
  excludedReason: string | null;
}

function freshRecord(nodeId: string): NodeRecord {
  return {
    nodeId,
    steps: 0,
    verifiedSteps: 0,
    credits: 0,
    failedChecks: 0,
    disputes: 0,
    disputeOpen: false,
    checksSkipped: 0,
    excludedAt: null,
    excludedReason: null,
  };
}

export class NodeStats {
  private readonly records = new Map<string, NodeRecord>();

  constructor(private readonly db: Db) {}

  /** The node's record, read from D1 the first time (a login); throws DbError. */
  async load(nodeId: string): Promise<NodeRecord> {
    const known = this.records.get(nodeId);
    if (known) return known;
    let rows: (typeof nodeStats.$inferSelect)[];
    try {
      rows = await this.db.select().from(nodeStats).where(eq(nodeStats.nodeId, nodeId)).limit(1);
    } catch (err) {
      throw new DbError("reading a node's standing", err);
    }
    // A concurrent load may have filled it meanwhile; memory is newer than D1.
    const record = this.records.get(nodeId) ?? (rows[0] ? fromRow(rows[0]) : freshRecord(nodeId));
    this.records.set(nodeId, record);
    return record;
  }

  /**
   * Load the records of these nodes (the connected ones, when the Swarm wakes after an eviction),
   * so no decision — and no write — uses a fresh record in place of a stored one. Throws DbError.
   */
  async loadMany(nodeIds: readonly string[]): Promise<void> {
    const missing = [...new Set(nodeIds)].filter((id) => !this.records.has(id));
    for (let i = 0; i < missing.length; i += 90) {
      const chunk = missing.slice(i, i + 90);
      let rows: (typeof nodeStats.$inferSelect)[];
      try {
        rows = await this.db.select().from(nodeStats).where(inArray(nodeStats.nodeId, chunk));
      } catch (err) {
        throw new DbError("reading node standings", err);
      }
      const found = new Map(rows.map((r) => [r.nodeId, fromRow(r)]));
      for (const id of chunk) if (!this.records.has(id)) this.records.set(id, found.get(id) ?? freshRecord(id));
    }
  }

  /** The node's record in memory (a fresh one for a node not loaded yet). */
  get(nodeId: string): NodeRecord {
    let record = this.records.get(nodeId);
    if (!record) {
      record = freshRecord(nodeId);
      this.records.set(nodeId, record);
    }
    return record;
  }

  /** Write the records as they are in memory (one batch); throws DbError. */
  async save(records: readonly NodeRecord[], now = Date.now()): Promise<void> {
    if (records.length === 0) return;
    try {
      const statements = records.map((r) => {
        const row = toRow(r, now);
        return this.db.insert(nodeStats).values(row).onConflictDoUpdate({ target: nodeStats.nodeId, set: row });
      });
      await this.db.batch(statements as [(typeof statements)[0], ...typeof statements]);
    } catch (err) {
      throw new DbError("storing node standings", err);
    }
  }

  /** Every stored record, with the in-memory ones (newer) in their place. */
  async all(): Promise<NodeRecord[]> {
    let rows: (typeof nodeStats.$inferSelect)[];
    try {
      rows = await this.db.select().from(nodeStats);
    } catch (err) {
      throw new DbError("reading node standings", err);
    }
    const out = new Map(rows.map((r) => [r.nodeId, fromRow(r)]));
    for (const [id, r] of this.records) out.set(id, r);
    return [...out.values()];
  }
}

function fromRow(r: typeof nodeStats.$inferSelect): NodeRecord {
  return {
    nodeId: r.nodeId,
    steps: r.steps,
    verifiedSteps: r.verifiedSteps,
    credits: r.credits,
    failedChecks: r.failedChecks,
    disputes: r.disputes,
    disputeOpen: r.disputeOpen,
    checksSkipped: r.checksSkipped,
    excludedAt: r.excludedAt,
    excludedReason: r.excludedReason,
  };
}

function toRow(r: NodeRecord, now: number): typeof nodeStats.$inferInsert {
  return { ...r, updatedAt: now };
}
