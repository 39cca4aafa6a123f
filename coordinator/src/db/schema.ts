/**
 * The coordinator's D1 schema, the single source for drizzle-kit migrations
 * (`npm run db:generate` writes coordinator/migrations; never edit those by hand).
 * Times are Unix epoch milliseconds.
 */
import { index, integer, primaryKey, sqliteTable, text } from "drizzle-orm/sqlite-core";

/** Agents that have proven possession of their ed25519 key at least once. */
export const nodes = sqliteTable("nodes", {
  /** ed25519 public key, lowercase hex. */
  id: text("id").primaryKey(),
  agentVersion: text("agent_version").notNull(),
  firstSeenAt: integer("first_seen_at").notNull(),
  lastSeenAt: integer("last_seen_at").notNull(),
});

/** Every model an agent has ever announced: what makes a model id "known" (404 vs 503). */
export const models = sqliteTable("models", {
  id: text("id").primaryKey(),
  sha256: text("sha256").notNull(),
  nLayers: integer("n_layers").notNull(),
  firstSeenAt: integer("first_seen_at").notNull(),
});

/**
 * The table from before the verifiable log: one row per completed request (hashes and counts).
 * Kept as it was; nothing writes it any more, and it is not part of the log.
 */
export const ledger = sqliteTable(
  "ledger",
  {
    seq: integer("seq").primaryKey({ autoIncrement: true }),
    requestId: text("request_id").notNull().unique(),
    modelId: text("model_id").notNull(),
    /** JSON array of the node ids that computed the request, in pipeline order. */
    nodeIds: text("node_ids").notNull(),
    promptSha256: text("prompt_sha256").notNull(),
    outputSha256: text("output_sha256").notNull(),
    promptTokens: integer("prompt_tokens").notNull(),
    completionTokens: integer("completion_tokens").notNull(),
    finishReason: text("finish_reason").notNull(),
    latencyMs: integer("latency_ms").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("ledger_model_created").on(t.modelId, t.createdAt)],
);

// ── the verifiable log (docs/ledger.md) ──────────────────────────────────────────────────────

/** Completed entries waiting for the sequencer: durable before the client hears "done". */
export const logPending = sqliteTable("log_pending", {
  /** The entry key (an inference entry's request id): logging twice is impossible. */
  key: text("key").primaryKey(),
  /** The entry's exact canonical bytes (UTF-8 JSON). */
  entry: text("entry").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Sequenced entries: index → exact bytes. Indices are dense from 0. */
export const logEntries = sqliteTable(
  "log_entries",
  {
    idx: integer("idx").primaryKey(),
    key: text("key").notNull().unique(),
    type: text("type").notNull(),
    entry: text("entry").notNull(),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("log_entries_created").on(t.createdAt)],
);

/** Every complete subtree's hash: level 0 are leaf hashes; (level, idx) covers leaves idx·2^level … */
export const logNodes = sqliteTable(
  "log_nodes",
  {
    level: integer("level").notNull(),
    idx: integer("idx").notNull(),
    /** SHA-256, lowercase hex. */
    hash: text("hash").notNull(),
  },
  (t) => [primaryKey({ columns: [t.level, t.idx] })],
);

/** Every checkpoint the log signed. */
export const logCheckpoints = sqliteTable("log_checkpoints", {
  size: integer("size").primaryKey(),
  /** Root hash, lowercase hex. */
  root: text("root").notNull(),
  /** The signed note: checkpoint text, blank line, the log's signature line. */
  note: text("note").notNull(),
  createdAt: integer("created_at").notNull(),
});

/** Witness cosignatures collected per checkpoint. */
export const logCosignatures = sqliteTable(
  "log_cosignatures",
  {
    size: integer("size").notNull(),
    nodeId: text("node_id").notNull(),
    /** The full signature line, as it goes into the served note. */
    line: text("line").notNull(),
    timestamp: integer("timestamp").notNull(),
  },
  (t) => [primaryKey({ columns: [t.size, t.nodeId] })],
);

/** What each witness last cosigned (the `old` size of its next request). */
export const witnesses = sqliteTable("witnesses", {
  nodeId: text("node_id").primaryKey(),
  size: integer("size").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Each node's consent contract in force: the signed form its agent sent (docs/consent.md). */
export const consents = sqliteTable("consents", {
  nodeId: text("node_id").primaryKey(),
  /** The SignedConsent as JSON. */
  signed: text("signed").notNull(),
  issuedAt: integer("issued_at").notNull(),
  revoked: integer("revoked", { mode: "boolean" }).notNull(),
  updatedAt: integer("updated_at").notNull(),
});

/** Proof of Useful Work standing per node (docs/verification.md): what checks found. */
export const nodeStats = sqliteTable("node_stats", {
  nodeId: text("node_id").primaryKey(),
  /** Stage steps served (outputs sent), as of the last write. */
  steps: integer("steps").notNull(),
  verifiedSteps: integer("verified_steps").notNull(),
  credits: integer("credits").notNull(),
  failedChecks: integer("failed_checks").notNull(),
  disputes: integer("disputes").notNull(),
  /** A dispute not yet cleared by a passed check: every session is checked meanwhile. */
  disputeOpen: integer("dispute_open", { mode: "boolean" }).notNull(),
  checksSkipped: integer("checks_skipped").notNull(),
  excludedAt: integer("excluded_at"),
  excludedReason: text("excluded_reason"),
  updatedAt: integer("updated_at").notNull(),
});

/** API keys made by an admin (docs/api.md, "Keys"): only a hash of the key is stored. */
export const apiKeys = sqliteTable("api_keys", {
  name: text("name").primaryKey(),
  /** SHA-256 of the whole key, lowercase hex. */
  keyHash: text("key_hash").notNull().unique(),
  /** The key's first characters, to recognise it in lists. */
  prefix: text("prefix").notNull(),
  /** Limits: requests per minute, tokens per minute, requests at once (null: none). */
  rpm: integer("rpm"),
  tpm: integer("tpm"),
  concurrency: integer("concurrency"),
  createdAt: integer("created_at").notNull(),
  lastUsedAt: integer("last_used_at"),
  revokedAt: integer("revoked_at"),
});

/** Usage per key, end user (`user` field, "" when none) and UTC day. */
export const keyUsage = sqliteTable(
  "key_usage",
  {
    keyName: text("key_name").notNull(),
    user: text("user").notNull(),
    day: text("day").notNull(),
    requests: integer("requests").notNull(),
    promptTokens: integer("prompt_tokens").notNull(),
    completionTokens: integer("completion_tokens").notNull(),
  },
  (t) => [primaryKey({ columns: [t.keyName, t.user, t.day] })],
);
