/** The tokenizer a GGUF file's vocabulary asks for (`tokenizer.ggml.model`; docs/bitnet-format.md §4). */
import { type GgufMetadata, metaString } from "../gguf/metadata.ts";
import { BpeTokenizer } from "./bpe-tokenizer.ts";
import { TokenizerError } from "./errors.ts";
import { SpmTokenizer } from "./spm-tokenizer.ts";
import type { Tokenizer } from "./tokenizer.ts";

/** "gpt2" → byte-level BPE (Llama-3, Falcon3), "llama" → SentencePiece (LLaMA-2); others are refused. */
export function tokenizerFromGguf(md: GgufMetadata): Tokenizer {
  const model = metaString(md, "tokenizer.ggml.model");
  if (model === "gpt2") return BpeTokenizer.fromGguf(md);
  if (model === "llama") return SpmTokenizer.fromGguf(md);
  throw new TokenizerError(
    "UNSUPPORTED",
    `tokenizer.ggml.model is ${model === undefined ? "missing" : `"${model}"`}; supported: "gpt2" (byte-level BPE), "llama" (SentencePiece)`,
  );
}
