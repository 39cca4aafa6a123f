/**
 * Validation of an OpenAI chat-completion request body and its translation into the job the
 * Swarm hands to an agent. Anything we cannot honour is refused with a 400 rather than ignored.
 */
import { z } from "zod";
import type { TaskType } from "../../../shared/consent/contract.ts";
import type { ChatMessage, SamplingParams } from "../../../shared/protocol/messages.ts";
import { ApiError } from "../errors.ts";

/** Generation length when the client sets none. */
export const DEFAULT_MAX_TOKENS = 256;

const TextPartSchema = z.object({ type: z.literal("text"), text: z.string() });
const MessageSchema = z.object({
  role: z.enum(["system", "developer", "user", "assistant", "tool"]),
  content: z.union([z.string(), z.array(TextPartSchema), z.null()]),
  name: z.string().optional(),
});

const ChatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(MessageSchema).min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  n: z.literal(1).nullish(),
  user: z.string().optional(),
  frequency_penalty: z.literal(0).nullish(),
  presence_penalty: z.literal(0).nullish(),
  logprobs: z.literal(false).nullish(),
  tools: z.array(z.unknown()).max(0).nullish(),
  response_format: z.object({ type: z.literal("text") }).nullish(),
});

/** A validated request, ready for the Swarm. */
export interface ChatJob {
  model: string;
  messages: ChatMessage[];
  params: SamplingParams;
  stream: boolean;
  includeUsage: boolean;
  /** The kind of work, for consent contracts. */
  task: TaskType;
  /**
   * The requester's contribution score, for contracts with `min_contribution_score`. API keys earn
   * none yet, so every request counts as 0 (docs/consent.md).
   */
  contributionScore: number;
}

/** Parse the raw body text; throws ApiError(400) naming the offending field. */
export function parseChatRequest(bodyText: string): ChatJob {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  const parsed = ChatRequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.path.join(".") || null;
    throw new ApiError("invalid_request", describeIssue(issue, param), param);
  }
  const body = parsed.data;
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    model: body.model,
    messages: body.messages.map((m) => ({
      role: m.role,
      content: m.content == null ? "" : typeof m.content === "string" ? m.content : m.content.map((p) => p.text).join(""),
    })),
    params: {
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      ...(body.seed != null ? { seed: body.seed } : {}),
      stop,
    },
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    task: "chat",
    contributionScore: 0,
  };
}

const UNSUPPORTED: Record<string, string> = {
  n: "Only n=1 is supported.",
  tools: "Tool calling is not supported by this server.",
  response_format: "Only response_format {type: 'text'} is supported.",
  logprobs: "logprobs are not supported yet.",
  frequency_penalty: "frequency_penalty is not supported yet; omit it or send 0.",
  presence_penalty: "presence_penalty is not supported yet; omit it or send 0.",
};

function describeIssue(issue: z.core.$ZodIssue, param: string | null): string {
  const root = String(issue.path[0] ?? "");
  if (UNSUPPORTED[root]) return UNSUPPORTED[root];
  if (issue.code === "invalid_type" && issue.input === undefined) return `Missing required parameter: '${param}'.`;
  return `Invalid value for '${param ?? "body"}': ${issue.message}`;
}
