/**
 * SentencePiece tokenizer as llama.cpp runs a GGUF whose `tokenizer.ggml.model` is "llama"
 * (LLaMA-2 vocabularies, e.g. bitnet_b1_58-large and -3B; docs/bitnet-format.md §4): spaces become
 * "▁", a space is prefixed to text that starts the prompt or follows a special token, then
 * adjacent pieces are merged greedily by the score of the token they form (highest first, the
 * leftmost on ties; the merge loop BPE uses, bpe-merge.ts) for as long as any pair forms a token;
 * a piece with no token falls back to `<0xXX>` byte tokens. Runs in Bun and workerd.
 */
import { type GgufMetadata, metaBool, metaInteger, metaNumberArray, metaString, metaStringArray } from "../gguf/metadata.ts";
import { mergeSteps } from "./bpe-merge.ts";
import { TokenizerError } from "./errors.ts";
import { Tokenizer, utf8, utf8Length, type VocabularyConfig } from "./tokenizer.ts";

/** What a SentencePiece tokenizer is built from; field names follow the GGUF keys. */
export interface SpmTokenizerConfig extends VocabularyConfig {
  /** `tokenizer.ggml.scores`: merge priority of each token (absent: all 0). */
  readonly scores?: ArrayLike<number>;
  /** `tokenizer.ggml.add_space_prefix` (default true). */
  readonly addSpacePrefix?: boolean;
}

/** SentencePiece's visible space. */
const SPACE = "\u2581";
/** Merge steps between turns given to the event loop by encodeAsync. */
const STEPS_PER_YIELD = 4096;

export class SpmTokenizer extends Tokenizer {
  readonly addSpacePrefix: boolean;
  private readonly scores: Float32Array;
  /** The `<0xXX>` token of each byte (or the byte's one-character token), if the vocabulary has one. */
  private readonly byteIds: (number | undefined)[] = [];

  constructor(config: SpmTokenizerConfig) {
    super(config);
    const n = config.tokens.length;
    if (config.scores !== undefined && config.scores.length !== n) {
      throw new TokenizerError("BAD_VOCAB", `scores has ${config.scores.length} entries for ${n} tokens`);
    }
    this.scores = new Float32Array(n);
    if (config.scores) this.scores.set(Array.from(config.scores));
    this.addSpacePrefix = config.addSpacePrefix ?? true;
    for (let b = 0; b < 256; b++) {
      const hex = b.toString(16).toUpperCase().padStart(2, "0");
      this.byteIds.push(this.vocab.get(`<0x${hex}>`) ?? (b < 0x80 ? this.vocab.get(String.fromCharCode(b)) : undefined));
    }
  }

  /** Builds a tokenizer from GGUF metadata whose `tokenizer.ggml.model` is "llama" (SentencePiece). */
  static fromGguf(md: GgufMetadata): SpmTokenizer {
    const model = metaString(md, "tokenizer.ggml.model");
    if (model !== "llama") {
      throw new TokenizerError(
        "UNSUPPORTED",
        `tokenizer.ggml.model is ${model === undefined ? "missing" : `"${model}"`}; a SentencePiece vocabulary is "llama"`,
      );
    }
    const tokens = metaStringArray(md, "tokenizer.ggml.tokens");
    if (tokens === undefined) throw new TokenizerError("BAD_VOCAB", "tokenizer.ggml.tokens is missing");
    // llama.cpp's defaults for SentencePiece vocabularies: BOS 1, EOS 2.
    const orDefault = (key: string, id: number) => metaInteger(md, key) ?? (id < tokens.length ? id : undefined);
    return new SpmTokenizer({
      tokens,
      scores: metaNumberArray(md, "tokenizer.ggml.scores"),
      tokenTypes: metaNumberArray(md, "tokenizer.ggml.token_type"),
      bosId: orDefault("tokenizer.ggml.bos_token_id", 1),
      eosId: orDefault("tokenizer.ggml.eos_token_id", 2),
      addBos: metaBool(md, "tokenizer.ggml.add_bos_token"),
      addSpacePrefix: metaBool(md, "tokenizer.ggml.add_space_prefix"),
    });
  }

  protected *encodeText(text: string, afterSpecial: boolean, out: number[]): Generator<void> {
    const escaped = (this.addSpacePrefix && afterSpecial ? ` ${text}` : text).replaceAll(" ", SPACE);
    // One piece per code point; a pair merges when it forms a token, the best-scored first.
    const rankOf = (l: string, r: string) => {
      const id = this.vocab.get(l + r);
      return id === undefined ? undefined : -(this.scores[id] as number);
    };
    const pieces = yield* mergeSteps(Array.from(escaped), rankOf, STEPS_PER_YIELD);
    for (const piece of pieces) {
      const id = this.vocab.get(piece);
      if (id !== undefined) {
        out.push(id);
        continue;
      }
      for (const b of utf8.encode(piece)) out.push(this.byteIds[b] ?? this.unknownByte(b));
    }
  }

  protected normalPiece(text: string): Uint8Array {
    return utf8.encode(text.replaceAll(SPACE, " "));
  }

  protected normalPieceLength(text: string): number {
    let spaces = 0;
    for (let i = text.indexOf(SPACE); i >= 0; i = text.indexOf(SPACE, i + 1)) spaces++;
    return utf8Length(text) - 2 * spaces; // "▁" is 3 bytes, the space it stands for 1
  }
}
