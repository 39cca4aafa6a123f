/**
 * The agent ⇄ coordinator wire protocol (JSON text frames over one WebSocket that the agent
 * opens). Every message is a discriminated union member keyed by `type`, and every message that
 * crosses the trust boundary is parsed with these schemas before use. See docs/protocol.md.
 */
import { z } from "zod";
import { TASK_TYPES } from "../consent/contract.ts";
import { SignedConsentSchema } from "../consent/signed-consent.ts";
import { hexBytes } from "../ledger/signed-json.ts";
import { ProtocolErrorCodeSchema, StageFailureCodeSchema } from "./errors.ts";

/** Protocol version spoken by this build; the coordinator refuses other major versions. */
export const PROTOCOL_VERSION = "aria/1";

/** Heartbeat frames: the coordinator answers them without waking up (hibernation auto-response). */
export const PING_FRAME = '{"type":"ping"}';
export const PONG_FRAME = '{"type":"pong"}';

/** A model an agent holds: which layers of it, and the file's content hash. */
export const ModelShardSchema = z.object({
  id: z.string().min(1).max(128),
  sha256: hexBytes(32),
  nLayers: z.number().int().positive().max(4096),
  layerBegin: z.number().int().nonnegative(),
  layerEnd: z.number().int().positive(),
  nCtx: z.number().int().positive(),
  /** The most UTF-8 bytes one token of the vocabulary stands for: lets the coordinator refuse prompts that cannot fit without tokenizing them. */
  maxTokenBytes: z.number().int().positive().max(65536).optional(),
  /** Memory the agent holds for this range (weights of its layers and their caches), bytes: checked against its consent. */
  heldBytes: z.number().int().nonnegative(),
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
  /** OpenAI's penalties: logit − presence·[count > 0] − frequency·count over the tokens generated so far. */
  presencePenalty: z.number().min(-2).max(2).optional(),
  frequencyPenalty: z.number().min(-2).max(2).optional(),
  /** Added to the logits of these token ids (ids the vocabulary lacks are ignored). */
  logitBias: z.record(z.string().regex(/^\d{1,9}$/), z.number().min(-100).max(100)).optional(),
  /** Constrained decoding: the output is a JSON text matching `schema` (null: any JSON object). */
  json: z.object({ schema: z.unknown() }).optional(),
  /** Report each chosen token's log-probability and this many alternatives (0–20); absent: none. */
  topLogprobs: z.number().int().min(0).max(20).optional(),
});
export type SamplingParams = z.infer<typeof SamplingParamsSchema>;

// ── coordinator → agent ──────────────────────────────────────────────────────────────────────
// Hidden states travel as binary frames (frame.ts); everything else is one of these.

export const ChallengeSchema = z.object({
  type: z.literal("challenge"),
  protocol: z.string(),
  nonce: hexBytes(32),
});
export const WelcomeSchema = z.object({
  type: z.literal("welcome"),
  nodeId: hexBytes(32),
  heartbeatMs: z.number().int().positive(),
  /** The provenance log this coordinator runs: agents pin its key on first sight (docs/ledger.md). */
  ledger: z.object({ origin: z.string().min(1).max(256), vkey: z.string().min(1).max(512) }).optional(),
});
/** Session ids are the Swarm's numeric ids of one chain attempt (u32). */
const SessionId = z.number().int().nonnegative().max(0xffffffff);
/** What kind of request a session serves, and its requester's contribution score: consent depends on both. */
const TaskFields = {
  task: z.enum(TASK_TYPES),
  contributionScore: z.number().min(0),
};
/**
 * Ask the first stage for the prompt's token ids: a chat (`messages`, the model's chat template
 * applied) or a completion prompt (`prompt`, plain text) — exactly one of the two. Stateless.
 */
export const TokenizeSchema = z.object({
  type: z.literal("tokenize"),
  session: SessionId,
  ...TaskFields,
  model: z.string().min(1),
  messages: z.array(ChatMessageSchema).min(1).optional(),
  prompt: z.string().optional(),
});
/** Prepare a session on a stage: KV cache for nCtx positions of layers [layerBegin, layerEnd). */
export const OpenSchema = z.object({
  type: z.literal("open"),
  session: SessionId,
  /** The API's id of the request (what the stage's receipt names). */
  requestId: z.string().min(1).max(128),
  ...TaskFields,
  model: z.string().min(1),
  stage: z.number().int().nonnegative(),
  stages: z.number().int().positive(),
  layerBegin: z.number().int().nonnegative(),
  layerEnd: z.number().int().positive(),
  nCtx: z.number().int().positive(),
  /** Sampling parameters; maxTokens is the whole request's budget. Used by the last stage. */
  params: SamplingParamsSchema,
  /** Token ids generated before this attempt (a failover replay): the last stage restores its sampler from them. */
  history: z.array(z.number().int().nonnegative()),
});
/** Feed token ids at positions pos0… to the first stage (the prompt, a sampled token, or a replay). */
export const FeedSchema = z.object({
  type: z.literal("feed"),
  session: SessionId,
  pos0: z.number().int().nonnegative(),
  tokens: z.array(z.number().int().nonnegative()).min(1),
});
/** Free the session's KV cache; nothing more will come for it. The stage answers with its `receipt`. */
export const CloseSchema = z.object({
  type: z.literal("close"),
  session: SessionId,
});
export const ErrorSchema = z.object({
  type: z.literal("error"),
  code: ProtocolErrorCodeSchema,
  message: z.string(),
});
export const PongSchema = z.object({ type: z.literal("pong") });
/** Cosign a checkpoint: `body` is a c2sp.org/tlog-witness add-checkpoint request body. */
export const WitnessSchema = z.object({
  type: z.literal("witness"),
  body: z.string().max(64 * 1024),
});

export const CoordinatorMessageSchema = z.discriminatedUnion("type", [
  ChallengeSchema,
  WelcomeSchema,
  TokenizeSchema,
  OpenSchema,
  FeedSchema,
  CloseSchema,
  ErrorSchema,
  PongSchema,
  WitnessSchema,
]);
export type CoordinatorMessage = z.infer<typeof CoordinatorMessageSchema>;
export type OpenMessage = z.infer<typeof OpenSchema>;
export type FeedMessage = z.infer<typeof FeedSchema>;
export type TokenizeMessage = z.infer<typeof TokenizeSchema>;

// ── agent → coordinator ──────────────────────────────────────────────────────────────────────

export const HelloSchema = z.object({
  type: z.literal("hello"),
  protocol: z.string(),
  agentVersion: z.string().max(64),
  /** The agent's ed25519 public key (hex); it is the node id. */
  nodeId: hexBytes(32),
  /** ed25519 signature over `authMessage(nonce)` (hex). */
  signature: hexBytes(64),
  models: z.array(ModelShardSchema).min(1).max(16),
  maxSessions: z.number().int().positive().max(1024),
  /** The owner's consent contract, signed by the node key (docs/consent.md). */
  consent: SignedConsentSchema,
});
export const TokenizedSchema = z.object({
  type: z.literal("tokenized"),
  session: SessionId,
  tokens: z.array(z.number().int().nonnegative()),
});
/**
 * The last stage's choice after a final frame. `tokenId` null: the model ended the text (its
 * end-of-generation token, which is not counted). `text` is what became final (may be empty
 * while a UTF-8 sequence or a possible stop string is open; at the end it includes held text).
 * `finish` set: this is the request's last message.
 */
export const SampledSchema = z.object({
  type: z.literal("sampled"),
  session: SessionId,
  /** 0-based index of this generated token in the whole request. */
  index: z.number().int().nonnegative(),
  tokenId: z.number().int().nonnegative().nullable(),
  text: z.string(),
  finish: z.enum(["stop", "length"]).nullable(),
  /** With `topLogprobs` in the params and a token chosen: its log-probability and the top alternatives. */
  logprobs: z
    .object({
      token: z.string(),
      bytes: z.array(z.number().int().min(0).max(255)),
      logprob: z.number(),
      top: z.array(z.object({ token: z.string(), bytes: z.array(z.number().int().min(0).max(255)), logprob: z.number() })).max(20),
    })
    .nullish(),
  /**
   * SHA-256 of every hidden row this stage computed for the session since its previous choice
   * (f32 little-endian, in position order), then the logits row it chose from: what a
   * re-execution check compares (docs/verification.md).
   */
  outputHash: hexBytes(32),
});
export const FailedSchema = z.object({
  type: z.literal("failed"),
  session: SessionId,
  code: StageFailureCodeSchema,
  message: z.string().max(1024),
});
/**
 * The stage's signed receipt for a closed session (shared/ledger/receipt.ts). Checked by the
 * coordinator, not by this schema: a bad receipt is logged against the node, not a protocol error.
 */
export const ReceiptSchema = z.object({
  type: z.literal("receipt"),
  session: SessionId,
  receipt: z.unknown(),
});
/** A witness's cosignature of the checkpoint of `size`: one c2sp.org/tlog-cosignature line. */
export const CosignedSchema = z.object({
  type: z.literal("cosigned"),
  size: z.number().int().nonnegative(),
  line: z.string().min(1).max(1024),
});
/** A witness refused to cosign; on `conflict`, `latest` is the size it last cosigned. */
export const WitnessRefusedSchema = z.object({
  type: z.literal("witness_refused"),
  size: z.number().int().nonnegative(),
  code: z.enum(["conflict", "bad_request", "bad_signature", "bad_proof", "wrong_log", "rollback"]),
  message: z.string().max(1024),
  latest: z.number().int().nonnegative().optional(),
});
/** The owner changed or revoked the consent contract. */
export const ConsentSchema = z.object({
  type: z.literal("consent"),
  consent: SignedConsentSchema,
});
/** The agent is shutting down: plan nothing new on it. */
export const DrainingSchema = z.object({ type: z.literal("draining") });
export const PingSchema = z.object({ type: z.literal("ping") });

export const AgentMessageSchema = z.discriminatedUnion("type", [
  HelloSchema,
  TokenizedSchema,
  SampledSchema,
  FailedSchema,
  DrainingSchema,
  PingSchema,
  ReceiptSchema,
  CosignedSchema,
  WitnessRefusedSchema,
  ConsentSchema,
]);
export type AgentMessage = z.infer<typeof AgentMessageSchema>;
export type HelloMessage = z.infer<typeof HelloSchema>;
export type SampledMessage = z.infer<typeof SampledSchema>;
export type FailedMessage = z.infer<typeof FailedSchema>;
export type CosignedMessage = z.infer<typeof CosignedSchema>;
export type WitnessRefusedMessage = z.infer<typeof WitnessRefusedSchema>;
export type WitnessMessage = z.infer<typeof WitnessSchema>;

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
