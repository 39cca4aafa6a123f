/** Builders for OpenAI chat-completion stream chunks and usage (the whole objects are in response-shapes.ts). */

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type FinishReason = "stop" | "length";

export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
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
