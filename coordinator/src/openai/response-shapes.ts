/** The two OpenAI response shapes ARIA answers in: chat completions and (legacy) text completions. */
import type { FinishReason, Usage } from "./chat-response.ts";
import { chunkObject, usageChunkObject } from "./chat-response.ts";

export interface ChoiceResult {
  text: string;
  finishReason: FinishReason;
}

export interface ResponseShape {
  prefix: "chatcmpl" | "cmpl";
  complete(id: string, created: number, model: string, choices: ChoiceResult[], usage: Usage): unknown;
  /** Chunks sent before any token (the chat's role announcement), one per choice. */
  opening(id: string, created: number, model: string, index: number): unknown | null;
  chunk(id: string, created: number, model: string, index: number, text: string | null, finish: FinishReason | null): unknown;
  usage(id: string, created: number, model: string, usage: Usage): unknown;
}

export const CHAT_SHAPE: ResponseShape = {
  prefix: "chatcmpl",
  complete: (id, created, model, choices, usage) => ({
    id,
    object: "chat.completion",
    created,
    model,
    choices: choices.map((c, index) => ({
      index,
      message: { role: "assistant", content: c.text, refusal: null },
      logprobs: null,
      finish_reason: c.finishReason,
    })),
    usage,
    system_fingerprint: null,
  }),
  opening: (id, created, model, index) => withIndex(chunkObject(id, created, model, { role: "assistant", content: "" }, null), index),
  chunk: (id, created, model, index, text, finish) =>
    withIndex(chunkObject(id, created, model, text === null ? {} : { content: text }, finish), index),
  usage: (id, created, model, usage) => usageChunkObject(id, created, model, usage),
};

export const COMPLETION_SHAPE: ResponseShape = {
  prefix: "cmpl",
  complete: (id, created, model, choices, usage) => ({
    id,
    object: "text_completion",
    created,
    model,
    choices: choices.map((c, index) => ({ text: c.text, index, logprobs: null, finish_reason: c.finishReason })),
    usage,
    system_fingerprint: null,
  }),
  opening: () => null,
  chunk: (id, created, model, index, text, finish) => ({
    id,
    object: "text_completion",
    created,
    model,
    choices: [{ text: text ?? "", index, logprobs: null, finish_reason: finish }],
    system_fingerprint: null,
  }),
  usage: (id, created, model, usage) => ({ id, object: "text_completion", created, model, choices: [], usage, system_fingerprint: null }),
};

function withIndex<T extends { choices: { index: number }[] }>(chunk: T, index: number): T {
  chunk.choices[0]!.index = index;
  return chunk;
}
