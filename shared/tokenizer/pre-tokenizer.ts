/**
 * Pre-tokenizers: split text into the words BPE runs on (docs/bitnet-format.md §4.2). Every character of the
 * input lands in exactly one word: stretches no pattern matches are kept as words of their own,
 * as llama.cpp does.
 */
import { TokenizerError } from "./errors.ts";

/** Which split rules a vocabulary uses. */
export type PreTokenizerKind = "llama3" | "gpt2" | "default";

/**
 * Llama-3's pattern with the case-insensitive contractions spelled out as llama.cpp does
 * (`(?i:'s)` -> `'[sS]`), since a JS inline modifier group is not portable.
 */
const LLAMA3 =
  /'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD]|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

const GPT2 = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

/** llama.cpp's LLAMA_VOCAB_PRE_TYPE_DEFAULT: four patterns applied one after another. */
const DEFAULT_SEQUENCE: readonly RegExp[] = [
  /[\p{P}$+<=>^~|]+/gu,
  /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)/gu,
  /\p{N}+/gu,
  /[0-9][0-9][0-9]/gu,
];

/** Names accepted in `tokenizer.ggml.pre` and the rules each selects. */
const BY_NAME: Readonly<Record<string, PreTokenizerKind>> = {
  "llama-bpe": "llama3",
  llama3: "llama3",
  "llama-v3": "llama3",
  falcon3: "llama3",
  "gpt-2": "gpt2",
  gpt2: "gpt2",
  default: "default",
};

/**
 * The pre-tokenizer for a `tokenizer.ggml.pre` value. A missing value means Llama-3: the official
 * BitNet 2B-4T GGUF omits the key although its vocabulary is Llama-3's (bitnet.cpp then falls back
 * to "default", which only matters for bit-exact parity with it; pass "default" to get that).
 */
export function preTokenizerFor(pre: string | undefined): PreTokenizerKind {
  if (pre === undefined) return "llama3";
  const kind = BY_NAME[pre];
  if (kind === undefined)
    throw new TokenizerError("UNSUPPORTED", `unsupported pre-tokenizer "${pre}" (known: ${Object.keys(BY_NAME).join(", ")})`);
  return kind;
}

/** Splits `text` at the matches of `re`, keeping both the matches and the stretches between. */
function splitKeeping(text: string, re: RegExp, out: string[]): void {
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index > last) out.push(text.slice(last, m.index));
    if (m[0].length > 0) out.push(m[0]);
    last = m.index + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
}

/**
 * Splits text into pre-tokens.
 * @example preTokenize("I'm 12345 ok", "llama3") // ["I", "'m", " ", "123", "45", " ok"]
 */
export function preTokenize(text: string, kind: PreTokenizerKind): string[] {
  if (kind === "default") {
    let pieces = [text];
    for (const re of DEFAULT_SEQUENCE) {
      const next: string[] = [];
      for (const p of pieces) splitKeeping(p, re, next);
      pieces = next;
    }
    return pieces;
  }
  const out: string[] = [];
  splitKeeping(text, kind === "llama3" ? LLAMA3 : GPT2, out);
  return out;
}
