/**
 * The coordinator's D1 schema, the single source for drizzle-kit migrations
 * (`npm run db:generate` writes coordinator/migrations; never edit those by hand).
 * Times are Unix epoch milliseconds.
 */
import { index, integer, sqliteTable, text } from "drizzle-orm/sqlite-core";

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
 * One row per completed request: content hashes and counts, never prompt or output text.
 * `seq` is the append order that the verifiable log will be built over.
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
