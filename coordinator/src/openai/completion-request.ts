/** Validation of an OpenAI (legacy) completions request: a prompt string, or an array of them. */
import { z } from "zod";
import { ApiError } from "../errors.ts";
import type { ChatJob } from "./chat-request.ts";
import { MAX_CHOICES, parseBody, SamplingFields, samplingOf } from "./sampling-request.ts";

const CompletionRequestSchema = z
  .object({
    ...SamplingFields,
    prompt: z.union([z.string(), z.array(z.string()).min(1)]),
    logprobs: z.number().int().min(0).max(20).nullish(),
  })
  .strict();

/** One job per prompt (choices of a prompt array are numbered prompt by prompt, n each). */
export function parseCompletionRequest(bodyText: string): ChatJob[] {
  const body = parseBody(bodyText, CompletionRequestSchema);
  const prompts = typeof body.prompt === "string" ? [body.prompt] : body.prompt;
  const sampling = samplingOf(body, body.logprobs ?? undefined);
  if (prompts.length * sampling.n > MAX_CHOICES)
    throw new ApiError("invalid_request", `At most ${MAX_CHOICES} choices per request (prompts × n).`, "n");
  if (prompts.some((p) => p.length === 0)) throw new ApiError("empty_prompt", "A prompt is empty.", "prompt");
  return prompts.map((prompt) => ({ model: body.model, messages: [], prompt, ...sampling, task: "completion", contributionScore: 0 }));
}
