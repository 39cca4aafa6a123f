/**
 * Byte-level BPE tokenizer (Llama-3 / GPT-2 style) built from GGUF vocabulary metadata
 * (docs/bitnet-format.md §4). Runs in Bun and workerd.
 */
import { type GgufMetadata, metaBool, metaInteger, metaNumberArray, metaString, metaStringArray } from "../gguf/metadata.ts";
import { applyMerges } from "./bpe-merge.ts";
import { BYTE_TO_CHAR, CHAR_TO_BYTE, tokenTextToBytes } from "./byte-encoding.ts";
import { TokenizerError } from "./errors.ts";
import { type PreTokenizerKind, preTokenize, preTokenizerFor } from "./pre-tokenizer.ts";
import { Tokenizer, utf8, utf8Length, type VocabularyConfig } from "./tokenizer.ts";

export { type DecodeOptions, type EncodeOptions, TokenType } from "./tokenizer.ts";

/** What a byte-level BPE tokenizer is built from; field names follow the GGUF keys. */
export interface BpeTokenizerConfig extends VocabularyConfig {
  /** `"A B"` merge rules, rank = index. */
  readonly merges: readonly string[];
  /** `tokenizer.ggml.pre`; see {@link preTokenizerFor}. */
  readonly pre?: string;
}

const CACHE_LIMIT = 65536;

/**
 * A byte-level BPE tokenizer.
 * @example const tok = BpeTokenizer.fromGguf(file.metadata); tok.decode(tok.encode("Hello")) === "Hello"
 */
export class BpeTokenizer extends Tokenizer {
  /** The pre-tokenizer rules in use. */
  readonly preTokenizer: PreTokenizerKind;

  private readonly ranks = new Map<string, number>();
  private readonly ignoreMerges: boolean;
  private readonly wordCache = new Map<string, readonly number[]>();

  constructor(config: BpeTokenizerConfig) {
    super(config);
    config.merges.forEach((merge, rank) => {
      // The merge text is its own key ("A B", split at the first space after the first
      // character): no second copy of 280k strings.
      if (merge.indexOf(" ", 1) < 0) throw new TokenizerError("BAD_VOCAB", `merge ${rank} ("${merge}") has no space separator`);
      if (!this.ranks.has(merge)) this.ranks.set(merge, rank);
    });
    this.preTokenizer = preTokenizerFor(config.pre);
    this.ignoreMerges = this.preTokenizer === "llama3";
  }

  /** Builds a tokenizer from GGUF metadata whose `tokenizer.ggml.model` is "gpt2" (byte-level BPE). */
  static fromGguf(md: GgufMetadata): BpeTokenizer {
    const model = metaString(md, "tokenizer.ggml.model");
    if (model !== "gpt2") {
      throw new TokenizerError(
        "UNSUPPORTED",
        `tokenizer.ggml.model is ${model === undefined ? "missing" : `"${model}"`}; a byte-level BPE vocabulary is "gpt2"`,
      );
    }
    const tokens = metaStringArray(md, "tokenizer.ggml.tokens");
    const merges = metaStringArray(md, "tokenizer.ggml.merges");
    if (tokens === undefined) throw new TokenizerError("BAD_VOCAB", "tokenizer.ggml.tokens is missing");
    if (merges === undefined) throw new TokenizerError("BAD_VOCAB", "tokenizer.ggml.merges is missing");
    return new BpeTokenizer({
      tokens,
      merges,
      tokenTypes: metaNumberArray(md, "tokenizer.ggml.token_type"),
      bosId: metaInteger(md, "tokenizer.ggml.bos_token_id"),
      eosId: metaInteger(md, "tokenizer.ggml.eos_token_id"),
      addBos: metaBool(md, "tokenizer.ggml.add_bos_token"),
      pre: metaString(md, "tokenizer.ggml.pre"),
    });
  }

  /** Pre-tokenize, then BPE each word. */
  protected *encodeText(text: string, _afterSpecial: boolean, out: number[]): Generator<void> {
    let n = 0;
    for (const word of preTokenize(text, this.preTokenizer)) {
      if (++n % 256 === 0) yield;
      const cached = this.wordCache.get(word);
      if (cached) {
        for (const id of cached) out.push(id);
        continue;
      }
      const ids = this.encodeWord(word);
      if (this.wordCache.size >= CACHE_LIMIT) this.wordCache.clear();
      this.wordCache.set(word, ids);
      for (const id of ids) out.push(id);
    }
  }

  protected normalPiece(text: string): Uint8Array {
    return tokenTextToBytes(text) ?? utf8.encode(text);
  }

  protected normalPieceLength(text: string): number {
    for (let i = 0; i < text.length; i++) if (!CHAR_TO_BYTE.has(text.charCodeAt(i))) return utf8Length(text);
    return text.length;
  }

  private encodeWord(word: string): number[] {
    const bytes = utf8.encode(word);
    const symbols: string[] = new Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) symbols[i] = BYTE_TO_CHAR[bytes[i] as number] as string;
    if (this.ignoreMerges) {
      const whole = this.vocab.get(symbols.join(""));
      if (whole !== undefined) return [whole];
    }
    const merged = applyMerges(symbols, (l, r) => this.ranks.get(`${l} ${r}`));
    const ids: number[] = [];
    for (const sym of merged) {
      const id = this.vocab.get(sym);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      // A merge whose result is not in the vocabulary: fall back to one token per byte.
      for (const ch of sym) ids.push(this.vocab.get(ch) ?? this.unknownByte(tokenTextToBytes(ch)?.[0] ?? 0));
    }
    return ids;
  }
}
