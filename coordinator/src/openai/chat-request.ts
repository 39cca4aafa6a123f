/**
 * Validation of an OpenAI chat-completion request body and its translation into the job the
 * Swarm hands to an agent. Anything we cannot honour is refused with a 400 rather than ignored.
 */
import { z } from "zod";
import type { TaskType } from "../../../shared/consent/contract.ts";
import { parseSchema, SchemaError } from "../../../shared/json/schema-subset.ts";
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
    response_format: z
      .discriminatedUnion("type", [
        z.object({ type: z.literal("text") }).strict(),
        z.object({ type: z.literal("json_object") }).strict(),
        z
          .object({
            type: z.literal("json_schema"),
            json_schema: z
              .object({
                name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
                description: z.string().optional(),
                schema: z.record(z.string(), z.unknown()).optional(),
                strict: z.boolean().nullish(),
              })
              .strict(),
          })
          .strict(),
      ])
      .nullish(),
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
  /** The request id (its log entry's key): set by the Worker for every choice it opens. */
  requestId?: string;
}

/** Parse the raw body text; throws ApiError(400) naming the offending field. */
export function parseChatRequest(bodyText: string): ChatJob {
  const body = parseBody(bodyText, ChatRequestSchema);
  if (body.top_logprobs != null && body.logprobs !== true)
    throw new ApiError("invalid_request", "top_logprobs needs logprobs: true.", "top_logprobs");
  const json = jsonOutput(body.response_format);
  if (json && body.stop != null && body.stop.length > 0)
    throw new ApiError(
      "invalid_request",
      "stop cannot be combined with a JSON response_format (a stop string could cut the JSON).",
      "stop",
    );
  const sampling = samplingOf(body, body.logprobs === true ? (body.top_logprobs ?? 0) : undefined);
  if (json) sampling.params.json = json;
  return {
    model: body.model,
    messages: body.messages.map((m) => ({
      role: m.role,
      content: m.content == null ? "" : typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
    })),
    ...sampling,
    task: "chat",
    contributionScore: 0,
  };
}

/** The constraint a JSON response_format asks for (schema null: any object), checked to be within the supported subset. */
function jsonOutput(format: z.infer<typeof ChatRequestSchema>["response_format"]): { schema: unknown } | undefined {
  if (!format || format.type === "text") return undefined;
  if (format.type === "json_object") return { schema: null };
  const schema = format.json_schema.schema ?? {};
  try {
    parseSchema(schema);
  } catch (err) {
    if (!(err instanceof SchemaError)) throw err;
    const path = `response_format.json_schema.${err.path}`;
    throw new ApiError("invalid_request", `Unsupported JSON schema at ${path}: ${err.message}.`, path);
  }
  return { schema };
}
