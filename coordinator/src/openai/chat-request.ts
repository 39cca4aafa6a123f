/**
 * Validation of an OpenAI chat-completion request body and its translation into the job the
 * Swarm hands to an agent. Anything we cannot honour is refused with a 400 rather than ignored.
 */
import { z } from "zod";
import type { TaskType } from "../../../shared/consent/contract.ts";
import type { ChatMessage, SamplingParams } from "../../../shared/protocol/messages.ts";
import { ApiError } from "../errors.ts";
import { parseBody, SamplingFields, samplingOf } from "./sampling-request.ts";

export { DEFAULT_MAX_TOKENS } from "./sampling-request.ts";

const TextPartSchema = z.object({ type: z.literal("text"), text: z.string() }).strict();
const MessageSchema = z
  .object({
    role: z.enum(["system", "developer", "user", "assistant", "tool"]),
    content: z.union([z.string(), z.array(TextPartSchema), z.null()]),
    name: z.string().optional(),
  })
  .strict();

const ChatRequestSchema = z
  .object({
    ...SamplingFields,
    messages: z.array(MessageSchema).min(1),
    max_completion_tokens: z.number().int().positive().nullish(),
    logprobs: z.boolean().nullish(),
    top_logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .strict();

/** A validated request, ready for the Swarm: a chat (`messages`) or a completion prompt (`prompt`). */
export interface ChatJob {
  model: string;
  messages: ChatMessage[];
  /** A completion's prompt text (then `messages` is empty). */
  prompt?: string;
  params: SamplingParams;
  stream: boolean;
  includeUsage: boolean;
  /** Choices asked for (each runs as its own request on the network, batched on the agents). */
  n: number;
  /** The client's end-user id, recorded per key. */
  user: string | null;
  /** The kind of work, for consent contracts. */
  task: TaskType;
  /**
   * The requester's contribution score, for contracts with `min_contribution_score`. API keys earn
   * none yet, so every request counts as 0 (docs/consent.md).
   */
  contributionScore: number;
  /** The request id to use (set by the Worker for a request's second and later choices). */
  requestId?: string;
}

/** Parse the raw body text; throws ApiError(400) naming the offending field. */
export function parseChatRequest(bodyText: string): ChatJob {
  const body = parseBody(bodyText, ChatRequestSchema);
  if (body.top_logprobs != null && body.logprobs !== true)
    throw new ApiError("invalid_request", "top_logprobs needs logprobs: true.", "top_logprobs");
  return {
    model: body.model,
    messages: body.messages.map((m) => ({
      role: m.role,
      content: m.content == null ? "" : typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
    })),
    ...samplingOf(body, body.logprobs === true ? (body.top_logprobs ?? 0) : undefined),
    task: "chat",
    contributionScore: 0,
  };
}
