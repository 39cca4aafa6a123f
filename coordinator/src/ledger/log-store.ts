/**
 * The verifiable log's D1 storage (tables in db/schema.ts, layout in docs/ledger.md). Raw D1
 * statements rather than the ORM here: bulk rows travel as one JSON parameter expanded with
 * json_each, which keeps every statement within D1's bound-parameter limit and a whole
 * sequencing step inside one batch (one transaction).
 *
 * Invariants: log_entries.idx is dense from 0; every complete subtree of the tree at the latest
 * checkpoint has its hash in log_nodes; entries, nodes and the checkpoint of a step commit
 * together or not at all.
 */
import { fromHex, toHex } from "../../../shared/crypto/hex.ts";
import type { Hash } from "../../../shared/ledger/hash.ts";
import type { HashReader, NodeRef } from "../../../shared/ledger/tree-math.ts";
import { DbError } from "../db/records.ts";

/** JSON parameters are kept under this many bytes (D1 allows 2 MB per value). */
const MAX_PARAM_BYTES = 1_000_000;

export interface StoredCheckpoint {
  size: number;
  root: Hash;
  /** The signed note as the log signed it (no cosignatures). */
  note: string;
  createdAt: number;
}

export interface StoredEntry {
  idx: number;
  key: string;
  type: string;
  entry: string;
  createdAt: number;
}

async function guard<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw new DbError(what, err);
  }
}

/** Split rows into JSON arrays each under MAX_PARAM_BYTES. */
function jsonChunks(rows: readonly unknown[]): string[] {
  const chunks: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const row of rows) {
    const text = JSON.stringify(row);
    if (current.length > 0 && bytes + text.length * 3 + 1 > MAX_PARAM_BYTES) {
      chunks.push(`[${current.join(",")}]`);
      current = [];
      bytes = 2;
    }
    current.push(text);
    bytes += text.length * 3 + 1;
  }
  if (current.length > 0) chunks.push(`[${current.join(",")}]`);
  return chunks;
}

export class LogStore {
  constructor(private readonly db: D1Database) {}

  // ── the queue ─────────────────────────────────────────────────────────────────────────────

  /** Queue entries durably; an entry whose key is queued or logged already is left alone. */
  async enqueue(entries: readonly { key: string; entry: string }[], now: number): Promise<void> {
    const rows = entries.map((e) => [e.key, e.entry]);
    await guard("queueing ledger entries", () =>
      this.db.batch(
        jsonChunks(rows).map((chunk) =>
          this.db
            .prepare(
              `INSERT OR IGNORE INTO log_pending (key, entry, created_at)
               SELECT json_extract(j.value, '$[0]'), json_extract(j.value, '$[1]'), ?2 FROM json_each(?1) AS j
               WHERE NOT EXISTS (SELECT 1 FROM log_entries e WHERE e.key = json_extract(j.value, '$[0]'))`,
            )
            .bind(chunk, now),
        ),
      ),
    );
  }

  /** The oldest queued entries, in arrival order. */
  async pending(limit: number): Promise<{ key: string; entry: string }[]> {
    return guard("reading queued ledger entries", async () => {
      const { results } = await this.db
        .prepare("SELECT key, entry FROM log_pending ORDER BY created_at, rowid LIMIT ?")
        .bind(limit)
        .all<{ key: string; entry: string }>();
      return results;
    });
  }

  /** How many entries are queued, counting up to `limit`. */
  async pendingCount(limit: number): Promise<number> {
    return guard("counting queued ledger entries", async () => {
      const row = await this.db.prepare("SELECT COUNT(*) AS n FROM (SELECT 1 FROM log_pending LIMIT ?)").bind(limit).first<{ n: number }>();
      return row?.n ?? 0;
    });
  }

  /** Of these keys, the ones already logged (a queue row left from before a crash, or a repeat). */
  async loggedKeys(keys: readonly string[]): Promise<Set<string>> {
    if (keys.length === 0) return new Set();
    return guard("checking logged keys", async () => {
      const { results } = await this.db
        .prepare("SELECT key FROM log_entries WHERE key IN (SELECT value FROM json_each(?))")
        .bind(JSON.stringify(keys))
        .all<{ key: string }>();
      return new Set(results.map((r) => r.key));
    });
  }

  async dropPending(keys: readonly string[]): Promise<void> {
    if (keys.length === 0) return;
    await guard("dropping queued ledger entries", () =>
      this.db.prepare("DELETE FROM log_pending WHERE key IN (SELECT value FROM json_each(?))").bind(JSON.stringify(keys)).run(),
    );
  }

  // ── sequencing ────────────────────────────────────────────────────────────────────────────

  /** Number of logged entries. */
  async size(): Promise<number> {
    return guard("reading the log size", async () => {
      const row = await this.db.prepare("SELECT COUNT(*) AS n FROM log_entries").first<{ n: number }>();
      return row?.n ?? 0;
    });
  }

  /** One sequencing step, as one transaction: entries, new subtree hashes, queue rows removed, checkpoint. */
  async commit(step: {
    entries: readonly StoredEntry[];
    nodes: readonly { ref: NodeRef; hash: Hash }[];
    checkpoint: StoredCheckpoint;
  }): Promise<void> {
    const statements: D1PreparedStatement[] = [];
    for (const chunk of jsonChunks(step.entries.map((e) => [e.idx, e.key, e.type, e.entry, e.createdAt]))) {
      statements.push(
        this.db
          .prepare(
            `INSERT INTO log_entries (idx, key, type, entry, created_at)
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'),
                    json_extract(value, '$[3]'), json_extract(value, '$[4]') FROM json_each(?)`,
          )
          .bind(chunk),
      );
    }
    for (const chunk of jsonChunks(step.nodes.map((n) => [n.ref.level, n.ref.index, toHex(n.hash)]))) {
      statements.push(
        this.db
          .prepare(
            `INSERT INTO log_nodes (level, idx, hash)
             SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]') FROM json_each(?)`,
          )
          .bind(chunk),
      );
    }
    for (const chunk of jsonChunks(step.entries.map((e) => e.key))) {
      statements.push(this.db.prepare("DELETE FROM log_pending WHERE key IN (SELECT value FROM json_each(?))").bind(chunk));
    }
    const cp = step.checkpoint;
    statements.push(
      this.db
        .prepare("INSERT OR IGNORE INTO log_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)")
        .bind(cp.size, toHex(cp.root), cp.note, cp.createdAt),
    );
    await guard("committing a ledger step", () => this.db.batch(statements));
  }

  /** Sign an existing tree again (the log key was replaced): the stored note changes, nothing else. */
  async replaceCheckpoint(cp: StoredCheckpoint): Promise<void> {
    await guard("re-signing the checkpoint", () =>
      this.db.prepare("UPDATE log_checkpoints SET note = ?, created_at = ? WHERE size = ?").bind(cp.note, cp.createdAt, cp.size).run(),
    );
  }

  // ── reading ───────────────────────────────────────────────────────────────────────────────

  /** Stored subtree hashes, read with one query (a HashReader for proofs). */
  readonly readNodes: HashReader = async (refs: readonly NodeRef[]) => {
    if (refs.length === 0) return [];
    const { results } = await guard("reading tree hashes", () =>
      this.db
        .prepare(
          `SELECT n.level AS level, n.idx AS idx, n.hash AS hash FROM json_each(?) AS j
           JOIN log_nodes n ON n.level = json_extract(j.value, '$[0]') AND n.idx = json_extract(j.value, '$[1]')`,
        )
        .bind(JSON.stringify(refs.map((r) => [r.level, r.index])))
        .all<{ level: number; idx: number; hash: string }>(),
    );
    const byRef = new Map(results.map((r) => [`${r.level}/${r.idx}`, r.hash]));
    return refs.map((r) => {
      const hash = byRef.get(`${r.level}/${r.index}`);
      if (!hash) throw new DbError("reading tree hashes", new Error(`subtree ${r.level}/${r.index} is not stored`));
      return fromHex(hash);
    });
  };

  /** Hashes at one tree level, [start, start + count), in order; fewer when not all exist. */
  async nodesAt(level: number, start: number, count: number): Promise<Hash[]> {
    return guard("reading a tile", async () => {
      const { results } = await this.db
        .prepare("SELECT hash FROM log_nodes WHERE level = ? AND idx >= ? AND idx < ? ORDER BY idx")
        .bind(level, start, start + count)
        .all<{ hash: string }>();
      return results.map((r) => fromHex(r.hash));
    });
  }

  /** Entries [start, start + count), in order; fewer when not all exist. */
  async entriesFrom(start: number, count: number): Promise<StoredEntry[]> {
    return guard("reading entries", async () => {
      const { results } = await this.db
        .prepare("SELECT idx, key, type, entry, created_at AS createdAt FROM log_entries WHERE idx >= ? AND idx < ? ORDER BY idx")
        .bind(start, start + count)
        .all<StoredEntry>();
      return results;
    });
  }

  async entryByKey(key: string): Promise<StoredEntry | null> {
    return guard("finding an entry", () =>
      this.db
        .prepare("SELECT idx, key, type, entry, created_at AS createdAt FROM log_entries WHERE key = ?")
        .bind(key)
        .first<StoredEntry>(),
    );
  }

  async latestCheckpoint(): Promise<StoredCheckpoint | null> {
    return guard("reading the checkpoint", async () => {
      const row = await this.db
        .prepare("SELECT size, root, note, created_at AS createdAt FROM log_checkpoints ORDER BY size DESC LIMIT 1")
        .first<{ size: number; root: string; note: string; createdAt: number }>();
      return row ? { ...row, root: fromHex(row.root) } : null;
    });
  }

  // ── witnesses ─────────────────────────────────────────────────────────────────────────────

  /** The size each of these nodes last cosigned (0 when never). */
  async witnessedSize(nodeId: string): Promise<number> {
    return guard("reading a witness", async () => {
      const row = await this.db.prepare("SELECT size FROM witnesses WHERE node_id = ?").bind(nodeId).first<{ size: number }>();
      return row?.size ?? 0;
    });
  }

  /** Store a verified cosignature and what the witness now holds, together. */
  async addCosignature(size: number, nodeId: string, line: string, timestamp: number, now: number): Promise<void> {
    await guard("storing a cosignature", () =>
      this.db.batch([
        this.db
          .prepare("INSERT OR REPLACE INTO log_cosignatures (size, node_id, line, timestamp) VALUES (?, ?, ?, ?)")
          .bind(size, nodeId, line, timestamp),
        this.db
          .prepare(
            "INSERT INTO witnesses (node_id, size, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (node_id) DO UPDATE SET size = ?2, updated_at = ?3",
          )
          .bind(nodeId, size, now),
      ]),
    );
  }

  /** A witness says it holds `size` (after a conflict): the next request starts from there. */
  async setWitnessedSize(nodeId: string, size: number, now: number): Promise<void> {
    await guard("updating a witness", () =>
      this.db
        .prepare(
          "INSERT INTO witnesses (node_id, size, updated_at) VALUES (?1, ?2, ?3) ON CONFLICT (node_id) DO UPDATE SET size = ?2, updated_at = ?3",
        )
        .bind(nodeId, size, now)
        .run(),
    );
  }

  /** Cosignature lines for a checkpoint: one per node, longest-known nodes first, at most `limit`. */
  async cosignatures(size: number, limit: number): Promise<string[]> {
    return guard("reading cosignatures", async () => {
      const { results } = await this.db
        .prepare(
          `SELECT c.line AS line FROM log_cosignatures c LEFT JOIN nodes n ON n.id = c.node_id
           WHERE c.size = ? ORDER BY n.first_seen_at, c.node_id LIMIT ?`,
        )
        .bind(size, limit)
        .all<{ line: string }>();
      return results.map((r) => r.line);
    });
  }
}
