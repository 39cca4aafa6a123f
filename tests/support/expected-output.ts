/**
 * What a greedy completion of a model must be, computed without the native kernels: the
 * independent float reference forward pass (tests/reference) over the same prompt tokens.
 */
import { readFile } from "node:fs/promises";
import { chatPromptTokens } from "../../agent/src/serve/chat-prompt.ts";
import { readGguf } from "../../shared/gguf/reader.ts";
import { chatTemplateOf, tokenizerFromGguf } from "../../shared/tokenizer/index.ts";
import { ReferenceModel } from "../reference/bitnet-reference.ts";

export interface ExpectedCompletion {
  promptTokens: number;
  completionTokens: number;
  content: string;
  finishReason: "stop" | "length";
}

type Prompt = { chat: { role: "user" | "system"; content: string }[] } | { raw: string };

/** Greedy decode of `prompt` (chat-templated, or raw text with BOS as the file says) by the reference. */
export async function expectedGreedyCompletion(modelPath: string, prompt: Prompt, maxTokens: number): Promise<ExpectedCompletion> {
  const bytes = new Uint8Array(await readFile(modelPath));
  const file = readGguf(bytes, { fileSize: bytes.length });
  const tokenizer = tokenizerFromGguf(file.metadata);
  const ids =
    "chat" in prompt
      ? await chatPromptTokens(tokenizer, chatTemplateOf(file.metadata), prompt.chat)
      : tokenizer.encode(prompt.raw, { parseSpecial: true });
  const model = new ReferenceModel(bytes);
  let logits: Float64Array = new Float64Array(0);
  for (const t of ids) logits = model.step(t);
  const out: number[] = [];
  let finishReason: "stop" | "length" = "length";
  while (out.length < maxTokens) {
    let best = 0;
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
    if (tokenizer.eosIds.has(best)) {
      finishReason = "stop";
      break;
    }
    out.push(best);
    if (out.length < maxTokens) logits = model.step(best);
  }
  return { promptTokens: ids.length, completionTokens: out.length, content: tokenizer.decode(out), finishReason };
}
