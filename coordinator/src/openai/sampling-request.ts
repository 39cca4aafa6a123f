/**
 * What chat and completion requests share (docs/api.md, "Parameters"): the sampling fields, the
 * fields SDKs send by default that change nothing here (accepted and listed in the docs), and the
 * rule that any other field is refused with a 400 naming it — never silently ignored.
 */
import { z } from "zod";
import type { SamplingParams } from "../../../shared/protocol/messages.ts";
import { ApiError } from "../errors.ts";

/** Generation length when the client sets none. */
export const DEFAULT_MAX_TOKENS = 256;
/** Choices per request at most (n × prompts). */
export const MAX_CHOICES = 8;

export const SamplingFields = {
  model: z.string().min(1),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).strict().nullish(),
  max_tokens: z.number().int().positive().nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string().min(1), z.array(z.string().min(1)).max(4)]).nullish(),
  n: z.number().int().min(1).max(MAX_CHOICES).nullish(),
  user: z.string().max(256).nullish(),
  frequency_penalty: z.number().min(-2).max(2).nullish(),
  presence_penalty: z.number().min(-2).max(2).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d{1,9}$/, "keys are token ids"), z.number().min(-100).max(100))
    .refine((b) => Object.keys(b).length <= 300, "at most 300 token ids")
    .nullish(),
  // Sent by SDKs and wrappers by default; harmless here (docs/api.md lists them).
  store: z.literal(false).nullish(),
  service_tier: z.enum(["auto", "default"]).nullish(),
};

/** Fields we know but cannot honour yet: a 400 that says so. */
export const NOT_YET: Record<string, string> = {
  tools: "Tool calling is not supported by this server.",
  tool_choice: "Tool calling is not supported by this server.",
  functions: "Function calling is not supported by this server.",
  function_call: "Function calling is not supported by this server.",
  parallel_tool_calls: "Tool calling is not supported by this server.",
  store: "Stored completions are not supported; omit store or send false.",
  metadata: "Stored completions (metadata) are not supported.",
  modalities: "Only text output is supported.",
  audio: "Audio output is not supported.",
  prediction: "Predicted outputs are not supported.",
  reasoning_effort: "This model has no reasoning-effort setting.",
  web_search_options: "Web search is not supported.",
  echo: "echo is not supported.",
  suffix: "suffix is not supported.",
  best_of: "best_of is not supported; use n.",
};

export interface SamplingChoice {
  params: SamplingParams;
  n: number;
  stream: boolean;
  includeUsage: boolean;
  user: string | null;
}

type SamplingBody = { [K in keyof typeof SamplingFields]?: z.infer<(typeof SamplingFields)[K]> } & {
  max_completion_tokens?: number | null;
};

/** `topLogprobs` from the request's logprobs fields (chat: a flag and a count; completions: a count). */
export function samplingOf(body: SamplingBody, topLogprobs?: number): SamplingChoice {
  const stop = body.stop == null ? [] : typeof body.stop === "string" ? [body.stop] : body.stop;
  return {
    params: {
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS,
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      ...(body.seed != null ? { seed: body.seed } : {}),
      stop,
      ...(body.presence_penalty ? { presencePenalty: body.presence_penalty } : {}),
      ...(body.frequency_penalty ? { frequencyPenalty: body.frequency_penalty } : {}),
      ...(body.logit_bias && Object.keys(body.logit_bias).length > 0 ? { logitBias: body.logit_bias } : {}),
      ...(topLogprobs !== undefined ? { topLogprobs } : {}),
    },
    n: body.n ?? 1,
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    user: body.user ?? null,
  };
}

/** Parse JSON and validate against a strict schema; every failure is a 400 naming the field. */
export function parseBody<T>(bodyText: string, schema: z.ZodType<T>): T {
  let json: unknown;
  try {
    json = JSON.parse(bodyText);
  } catch {
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    throw new ApiError("invalid_request", "The request body must be a JSON object.");
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0]!;
    const path = [...issue.path, key].join(".");
    throw new ApiError("invalid_request", NOT_YET[key] ?? `Unsupported parameter: '${path}'.`, path);
  }
  const param = issue.path.join(".") || null;
  const root = String(issue.path[0] ?? "");
  if (NOT_YET[root]) throw new ApiError("invalid_request", NOT_YET[root], param);
  if (issue.code === "invalid_type" && issue.input === undefined)
    throw new ApiError("invalid_request", `Missing required parameter: '${param}'.`, param);
  throw new ApiError("invalid_request", `Invalid value for '${param ?? "body"}': ${issue.message}`, param);
}
