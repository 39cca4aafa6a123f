/**
 * The agent ⇄ coordinator wire protocol (JSON text frames over one WebSocket that the agent
 * opens). Every message is a discriminated union member keyed by `type`, and every message that
 * crosses the trust boundary is parsed with these schemas before use. See docs/protocol.md.
 */
import { z } from "zod";

/** Protocol version spoken by this build; the coordinator refuses other major versions. */
export const PROTOCOL_VERSION = "aria/1";

/** Heartbeat frames: the coordinator answers them without waking up (hibernation auto-response). */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

const hex = (bytes: number) => z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes of lowercase hex`);

/** A model an agent holds: which layers of it, and the file's content hash. */
export const ModelShardSchema = z.object({
  id: z.string().min(1).max(128),
  sha256: hex(32),
  nLayers: z.number().int().positive().max(4096),
  layerBegin: z.number().int().nonnegative(),
  layerEnd: z.number().int().positive(),
  nCtx: z.number().int().positive(),
});
export type ModelShard = z.infer<typeof ModelShardSchema>;

export const ChatMessageSchema = z.object({
  role: z.enum(["system", "user", "assistant", "developer", "tool"]),
  content: z.string(),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

export const SamplingParamsSchema = z.object({
  maxTokens: z.number().int().positive(),
  temperature: z.number().min(0).max(2),
  topP: z.number().gt(0).max(1),
  seed: z.number().int().optional(),
  stop: z.array(z.string().min(1)).max(4),
});
export type SamplingParams = z.infer<typeof SamplingParamsSchema>;

// ── coordinator → agent ──────────────────────────────────────────────────────────────────────

export const ChallengeSchema = z.object({
  type: z.literal("challenge"),
  protocol: z.string(),
  nonce: hex(32),
});
export const WelcomeSchema = z.object({
  type: z.literal("welcome"),
  nodeId: hex(32),
  heartbeatMs: z.number().int().positive(),
});
export const GenerateSchema = z.object({
  type: z.literal("generate"),
  requestId: z.string().min(1).max(64),
  model: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1),
  params: SamplingParamsSchema,
});
export const CancelSchema = z.object({
  type: z.literal("cancel"),
  requestId: z.string().min(1).max(64),
});
export const ErrorSchema = z.object({
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
});
export const PongSchema = z.object({ type: z.literal("pong") });

export const CoordinatorMessageSchema = z.discriminatedUnion("type", [
  ChallengeSchema,
  WelcomeSchema,
  GenerateSchema,
  CancelSchema,
  ErrorSchema,
  PongSchema,
]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessageSchema>;
export type GenerateMessage = z.infer<typeof GenerateSchema>;

// ── agent → coordinator ──────────────────────────────────────────────────────────────────────

export const HelloSchema = z.object({
  type: z.literal("hello"),
  protocol: z.string(),
  agentVersion: z.string().max(64),
  /** The agent's ed25519 public key (hex); it is the node id. */
  nodeId: hex(32),
  /** ed25519 signature over `authMessage(nonce)` (hex). */
  signature: hex(64),
  models: z.array(ModelShardSchema).min(1).max(16),
  maxSessions: z.number().int().positive().max(1024),
});
export const TokenSchema = z.object({
  type: z.literal("token"),
  requestId: z.string().min(1).max(64),
  /** 0-based index of this generated token. */
  index: z.number().int().nonnegative(),
  tokenId: z.number().int().nonnegative(),
  /** Text that became final with this token (may be empty while a UTF-8 or stop match is open). */
  text: z.string(),
});
export const DoneSchema = z.object({
  type: z.literal("done"),
  requestId: z.string().min(1).max(64),
  finishReason: z.enum(["stop", "length"]),
  /** Text held back until the end (an unfinished UTF-8 sequence or a possible stop prefix). */
  tail: z.string(),
  promptTokens: z.number().int().nonnegative(),
  completionTokens: z.number().int().nonnegative(),
  /** SHA-256 (hex) of the prompt token ids as little-endian u32, and of the output token ids. */
  promptSha256: hex(32),
  outputSha256: hex(32),
});
export const FailedSchema = z.object({
  type: z.literal("failed"),
  requestId: z.string().min(1).max(64),
  code: z.string().max(64),
  message: z.string().max(1024),
});
export const PingSchema = z.object({ type: z.literal("ping") });

export const AgentMessageSchema = z.discriminatedUnion("type", [HelloSchema, TokenSchema, DoneSchema, FailedSchema, PingSchema]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type HelloMessage = z.infer<typeof HelloSchema>;
export type TokenMessage = z.infer<typeof TokenSchema>;
export type DoneMessage = z.infer<typeof DoneSchema>;
export type FailedMessage = z.infer<typeof FailedSchema>;

/** Bytes the agent signs to prove it holds its node key: domain-separated from any other use. */
export function authMessage(nonceHex: string): Uint8Array {
  return new TextEncoder().encode(`aria-agent-auth:v1:${nonceHex}`);
}

/** Parse a text frame into a message of the given schema, or return an error string. */
export function parseFrame<T>(schema: z.ZodType<T>, data: string): { ok: true; message: T } | { ok: false; error: string } {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { ok: false, error: "frame is not valid JSON" };
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    return { ok: false, error: `invalid message: ${issue?.path.join(".") || "(root)"}: ${issue?.message}` };
  }
  return { ok: true, message: result.data };
}
