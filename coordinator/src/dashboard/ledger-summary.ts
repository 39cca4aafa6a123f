/**
 * The ledger part of the dashboard snapshot and the admin explorer's listings (docs/dashboard.md):
 * read-only D1 queries over the log tables. Entries are listed by index, type, key and leaf hash —
 * never their bytes (which hold no text anyway).
 */
import { fromHex } from "../../../shared/crypto/hex.ts";
import { encodeBase64 } from "../../../shared/ledger/base64.ts";

export interface LedgerSummary {
  size: number;
  root: string | null;
  witnesses: string[];
  latest: { index: number; type: string; key: string; leaf_hash: string; at: number }[];
}

/** The latest checkpoint, who cosigned it, and the newest entries. */
export async function ledgerSummary(db: D1Database, latest = 10): Promise<LedgerSummary> {
  const cp = await db.prepare("SELECT size, root FROM log_checkpoints ORDER BY size DESC LIMIT 1").first<{ size: number; root: string }>();
  const size = cp?.size ?? 0;
  const witnesses = await db
    .prepare("SELECT node_id FROM log_cosignatures WHERE size = ? ORDER BY timestamp")
    .bind(size)
    .all<{ node_id: string }>();
  const entries = await db
    .prepare(
      `SELECT e.idx AS idx, e.type AS type, e.key AS key, e.created_at AS at, n.hash AS leaf
       FROM log_entries e LEFT JOIN log_nodes n ON n.level = 0 AND n.idx = e.idx
       WHERE e.idx < ? ORDER BY e.idx DESC LIMIT ?`,
    )
    .bind(size, latest)
    .all<{ idx: number; type: string; key: string; at: number; leaf: string | null }>();
  return {
    size,
    root: cp ? encodeBase64(fromHex(cp.root)) : null,
    witnesses: witnesses.results.map((w) => `aria-node/${w.node_id}`),
    latest: entries.results.map((e) => ({
      index: e.idx,
      type: e.type,
      key: e.key,
      leaf_hash: e.leaf ? encodeBase64(fromHex(e.leaf)) : "",
      at: e.at,
    })),
  };
}

export interface EntryQuery {
  requestId?: string;
  node?: string;
  model?: string;
  type?: string;
  from?: number;
  to?: number;
  before?: number;
  limit: number;
}

/** Entries matching every given filter, newest first (the admin explorer's search). */
export async function searchEntries(db: D1Database, q: EntryQuery) {
  const where: string[] = [];
  const args: (string | number)[] = [];
  if (q.requestId) {
    where.push("(key = ? OR json_extract(entry, '$.request_id') = ?)");
    args.push(q.requestId, q.requestId);
  }
  if (q.node) {
    where.push("instr(entry, ?) > 0");
    args.push(q.node.toLowerCase());
  }
  if (q.model) {
    where.push(
      "(json_extract(entry, '$.model.id') = ? OR json_extract(entry, '$.model.sha256') = ? OR json_extract(entry, '$.model_sha256') = ?)",
    );
    args.push(q.model, q.model.toLowerCase(), q.model.toLowerCase());
  }
  if (q.type) {
    where.push("type = ?");
    args.push(q.type);
  }
  if (q.from !== undefined) {
    where.push("created_at >= ?");
    args.push(q.from);
  }
  if (q.to !== undefined) {
    where.push("created_at <= ?");
    args.push(q.to);
  }
  if (q.before !== undefined) {
    where.push("idx < ?");
    args.push(q.before);
  }
  const sql = `SELECT idx, type, key, created_at FROM log_entries ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY idx DESC LIMIT ?`;
  const rows = await db
    .prepare(sql)
    .bind(...args, q.limit)
    .all<{ idx: number; type: string; key: string; created_at: number }>();
  return rows.results.map((r) => ({ index: r.idx, type: r.type, key: r.key, created_at: r.created_at }));
}

/** Signed checkpoints, newest first, with their cosignature lines. */
export async function listCheckpoints(db: D1Database, before: number | undefined, limit: number) {
  const rows = await db
    .prepare(
      `SELECT size, root, note, created_at FROM log_checkpoints ${before !== undefined ? "WHERE size < ?" : ""} ORDER BY size DESC LIMIT ?`,
    )
    .bind(...(before !== undefined ? [before, limit] : [limit]))
    .all<{ size: number; root: string; note: string; created_at: number }>();
  const sizes = rows.results.map((r) => r.size);
  const cosigs = sizes.length
    ? await db
        .prepare(`SELECT size, line FROM log_cosignatures WHERE size IN (${sizes.map(() => "?").join(",")}) ORDER BY timestamp`)
        .bind(...sizes)
        .all<{ size: number; line: string }>()
    : { results: [] as { size: number; line: string }[] };
  return rows.results.map((r) => ({
    size: r.size,
    root: encodeBase64(fromHex(r.root)),
    note: r.note,
    created_at: r.created_at,
    cosignatures: cosigs.results.filter((c) => c.size === r.size).map((c) => c.line),
  }));
}
