/** Builders for OpenAI chat-completion response objects and stream chunks. */

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = "stop" | "length";

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

export function completionObject(id: string, created: number, model: string, content: string, finishReason: FinishReason, usage: Usage) {
  return {
    id,
    object: "chat.completion" as const,
    created,
    model,
    choices: [{ index: 0, message: { role: "assistant" as const, content, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage,
    system_fingerprint: null,
  };
}

export function chunkObject(
  id: string,
  created: number,
  model: string,
  delta: { role?: "assistant"; content?: string },
  finishReason: FinishReason | null,
) {
  return {
    id,
    object: "chat.completion.chunk" as const,
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    system_fingerprint: null,
  };
}

export function usageChunkObject(id: string, created: number, model: string, usage: Usage) {
  return { id, object: "chat.completion.chunk" as const, created, model, choices: [], usage, system_fingerprint: null };
}
