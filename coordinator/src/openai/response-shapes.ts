/** The two OpenAI response shapes ARIA answers in: chat completions and (legacy) text completions. */
import type { TokenLogprobs } from "../swarm/job-events.ts";
import type { FinishReason, Usage } from "./chat-response.ts";
import { chunkObject, usageChunkObject } from "./chat-response.ts";

export interface ChoiceResult {
  text: string;
  finishReason: FinishReason;
  /** Per generated token, when the request asked for logprobs; else null. */
  logprobs: TokenLogprobs[] | null;
}

/** Chat's logprobs object: `content` per token with its `top_logprobs`. */
function chatLogprobs(entries: TokenLogprobs[] | null) {
  if (!entries) return null;
  return {
    content: entries.map((e) => ({
      token: e.token,
      logprob: e.logprob,
      bytes: e.bytes,
      top_logprobs: e.top.map((t) => ({ token: t.token, logprob: t.logprob, bytes: t.bytes })),
    })),
    refusal: null,
  };
}

/** The completions API's logprobs object (parallel arrays; `text_offset` counts characters). */
function completionLogprobs(entries: TokenLogprobs[] | null) {
  if (!entries) return null;
  const text_offset: number[] = [];
  let at = 0;
  for (const e of entries) {
    text_offset.push(at);
    at += e.token.length;
  }
  return {
    tokens: entries.map((e) => e.token),
    token_logprobs: entries.map((e) => e.logprob),
    top_logprobs: entries.map((e) => Object.fromEntries(e.top.map((t) => [t.token, t.logprob]))),
    text_offset,
  };
}

export interface ResponseShape {
  prefix: "chatcmpl" | "cmpl";
  complete(id: string, created: number, model: string, choices: ChoiceResult[], usage: Usage): unknown;
  /** Chunks sent before any token (the chat's role announcement), one per choice. */
  opening(id: string, created: number, model: string, index: number): unknown | null;
  chunk(
    id: string,
    created: number,
    model: string,
    index: number,
    text: string | null,
    finish: FinishReason | null,
    logprobs: TokenLogprobs[] | null,
  ): unknown;
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
      logprobs: chatLogprobs(c.logprobs),
      finish_reason: c.finishReason,
    })),
    usage,
    system_fingerprint: null,
  }),
  opening: (id, created, model, index) => withIndex(chunkObject(id, created, model, { role: "assistant", content: "" }, null), index),
  chunk: (id, created, model, index, text, finish, logprobs) => {
    const chunk = withIndex(chunkObject(id, created, model, text === null ? {} : { content: text }, finish), index);
    (chunk.choices[0] as { logprobs: unknown }).logprobs = chatLogprobs(logprobs);
    return chunk;
  },
  usage: (id, created, model, usage) => usageChunkObject(id, created, model, usage),
};

export const COMPLETION_SHAPE: ResponseShape = {
  prefix: "cmpl",
  complete: (id, created, model, choices, usage) => ({
    id,
    object: "text_completion",
    created,
    model,
    choices: choices.map((c, index) => ({ text: c.text, index, logprobs: completionLogprobs(c.logprobs), finish_reason: c.finishReason })),
    usage,
    system_fingerprint: null,
  }),
  opening: () => null,
  chunk: (id, created, model, index, text, finish, logprobs) => ({
    id,
    object: "text_completion",
    created,
    model,
    choices: [{ text: text ?? "", index, logprobs: completionLogprobs(logprobs), finish_reason: finish }],
    system_fingerprint: null,
  }),
  usage: (id, created, model, usage) => ({ id, object: "text_completion", created, model, choices: [], usage, system_fingerprint: null }),
};

function withIndex<T extends { choices: { index: number }[] }>(chunk: T, index: number): T {
  chunk.choices[0]!.index = index;
  return chunk;
}
