/**
 * Byte-level BPE tokenizer (Llama-3 / GPT-2 style) built from GGUF vocabulary metadata
 * (docs/bitnet-format.md §4). Runs in Bun and workerd.
 */
import { type GgufMetadata, metaBool, metaInteger, metaNumberArray, metaString, metaStringArray } from "../gguf/metadata.ts";
import { applyMerges } from "./bpe-merge.ts";
import { BYTE_TO_CHAR, tokenTextToBytes } from "./byte-encoding.ts";
import { TokenizerError } from "./errors.ts";
import { type PreTokenizerKind, preTokenize, preTokenizerFor } from "./pre-tokenizer.ts";

/** `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type). */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** What a tokenizer is built from; field names follow the GGUF keys. */
export interface BpeTokenizerConfig {
  /** Token texts in byte-mapped form, index = id. */
  readonly tokens: readonly string[];
  /** `"A B"` merge rules, rank = index. */
  readonly merges: readonly string[];
  /** One {@link TokenType} per token; when absent, tokens shaped `<|…|>` count as control tokens. */
  readonly tokenTypes?: ArrayLike<number>;
  readonly bosId?: number;
  readonly eosId?: number;
  /** Whether `encode` prepends BOS by default (`tokenizer.ggml.add_bos_token`, default true). */
  readonly addBos?: boolean;
  /** `tokenizer.ggml.pre`; see {@link preTokenizerFor}. */
  readonly pre?: string;
}

/** Options of {@link BpeTokenizer.encode}. */
export interface EncodeOptions {
  /** Prepend BOS; defaults to the vocabulary's `add_bos_token`. */
  readonly addBos?: boolean;
  /**
   * Turn control-token texts such as `<|eot_id|>` inside the text into their ids (default false, so
   * user text cannot forge control tokens). User-defined tokens are always matched, as in llama.cpp.
   */
  readonly parseSpecial?: boolean;
  /**
   * With parseSpecial: [start, end) character ranges that are user text — a control-token text
   * inside one stays ordinary text. The chat prompt marks each message's content this way, so
   * only the template inserts control tokens, while everything else encodes as one text.
   */
  readonly plainRanges?: readonly (readonly [number, number])[];
}

/** Options of {@link BpeTokenizer.decode} and {@link BpeTokenizer.decodePiece}. */
export interface DecodeOptions {
  /** Render control tokens as their text instead of nothing (default false). */
  readonly renderSpecial?: boolean;
}

const CACHE_LIMIT = 65536;
const EMPTY = new Uint8Array(0);
const utf8 = new TextEncoder();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** A regex matching any of `texts`, longest first so the longest special token wins. */
function alternation(texts: string[]): RegExp | undefined {
  if (texts.length === 0) return undefined;
  const sorted = [...new Set(texts)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return new RegExp(sorted.map(escapeRegExp).join("|"), "gu");
}

/**
 * A byte-level BPE tokenizer.
 * @example const tok = BpeTokenizer.fromGguf(file.metadata); tok.decode(tok.encode("Hello")) === "Hello"
 */
export class BpeTokenizer {
  /** Number of tokens in the vocabulary. */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly addBos: boolean;
  /** Ids that end a generation: `<|end_of_text|>`, `<|eot_id|>` and the file's EOS. */
  readonly eosIds: ReadonlySet<number>;
  /** The pre-tokenizer rules in use. */
  readonly preTokenizer: PreTokenizerKind;

  private readonly tokens: readonly string[];
  private readonly types: Uint8Array;
  private readonly vocab = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly ignoreMerges: boolean;
  private readonly unkId: number | undefined;
  private readonly specialAll: RegExp | undefined;
  private readonly specialUser: RegExp | undefined;
  private readonly wordCache = new Map<string, readonly number[]>();
  private readonly pieces: (Uint8Array | undefined)[];

  constructor(config: BpeTokenizerConfig) {
    const n = config.tokens.length;
    if (n === 0) throw new TokenizerError("BAD_VOCAB", "the vocabulary is empty");
    this.tokens = config.tokens;
    this.vocabSize = n;
    this.types = new Uint8Array(n);
    if (config.tokenTypes !== undefined && config.tokenTypes.length !== n) {
      throw new TokenizerError("BAD_VOCAB", `token_type has ${config.tokenTypes.length} entries for ${n} tokens`);
    }
    for (let id = 0; id < n; id++) {
      const text = config.tokens[id] as string;
      this.types[id] = config.tokenTypes?.[id] ?? (/^<\|.+\|>$/.test(text) ? TokenType.CONTROL : TokenType.NORMAL);
      // First occurrence wins; duplicated texts only occur in malformed vocabularies.
      if (!this.vocab.has(text)) this.vocab.set(text, id);
    }
    config.merges.forEach((merge, rank) => {
      const space = merge.indexOf(" ", 1);
      if (space < 0) throw new TokenizerError("BAD_VOCAB", `merge ${rank} ("${merge}") has no space separator`);
      const key = `${merge.slice(0, space)} ${merge.slice(space + 1)}`;
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
    });
    const checkId = (id: number | undefined, what: string) => {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= n)) {
        throw new TokenizerError("BAD_VOCAB", `${what} ${id} is outside the ${n}-token vocabulary`);
      }
      return id;
    };
    this.bosId = checkId(config.bosId, "bos_token_id");
    this.eosId = checkId(config.eosId, "eos_token_id");
    this.addBos = (config.addBos ?? true) && this.bosId !== undefined;
    this.preTokenizer = preTokenizerFor(config.pre);
    this.ignoreMerges = this.preTokenizer === "llama3";
    this.unkId = this.firstOfType(TokenType.UNKNOWN);

    const eos = new Set<number>();
    if (this.eosId !== undefined) eos.add(this.eosId);
    for (const text of ["<|end_of_text|>", "<|eot_id|>"]) {
      const id = this.vocab.get(text);
      if (id !== undefined) eos.add(id);
    }
    this.eosIds = eos;

    const control: string[] = [];
    const user: string[] = [];
    for (let id = 0; id < n; id++) {
      const text = config.tokens[id] as string;
      if (text.length === 0) continue;
      const t = this.types[id];
      if (t === TokenType.USER_DEFINED) user.push(text);
      else if (t === TokenType.CONTROL || t === TokenType.UNKNOWN) control.push(text);
    }
    this.specialAll = alternation([...control, ...user]);
    this.specialUser = alternation(user);
    this.pieces = new Array(n);
  }

  /** Builds a tokenizer from GGUF metadata (`tokenizer.ggml.*`); only the "gpt2" (byte-level BPE) model is supported. */
  static fromGguf(md: GgufMetadata): BpeTokenizer {
    const model = metaString(md, "tokenizer.ggml.model");
    if (model !== "gpt2") {
      throw new TokenizerError(
        "UNSUPPORTED",
        `tokenizer.ggml.model is ${model === undefined ? "missing" : `"${model}"`}; only "gpt2" (byte-level BPE) is supported`,
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

  private firstOfType(type: number): number | undefined {
    const i = this.types.indexOf(type);
    return i < 0 ? undefined : i;
  }

  /**
   * Text -> token ids.
   * @example tok.encode("<|eot_id|>", { parseSpecial: true, addBos: false }) // [eot id]
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const out: number[] = [];
    for (const _ of this.encodeSteps(text, options, out));
    return out;
  }

  /**
   * {@link encode} for long texts, giving the event loop a turn every `sliceMs` of work, so a
   * server encoding a large prompt keeps answering everything else meanwhile.
   */
  async encodeAsync(text: string, options: EncodeOptions = {}, sliceMs = 4): Promise<number[]> {
    const out: number[] = [];
    let sliceStart = performance.now();
    for (const _ of this.encodeSteps(text, options, out)) {
      if (performance.now() - sliceStart < sliceMs) continue;
      await new Promise((resolve) => setTimeout(resolve, 0));
      sliceStart = performance.now();
    }
    return out;
  }

  /** The encoding as a generator that pauses every few hundred words (encode runs it through). */
  private *encodeSteps(text: string, options: EncodeOptions, out: number[]): Generator<void> {
    if ((options.addBos ?? this.addBos) && this.bosId !== undefined) out.push(this.bosId);
    const special = options.parseSpecial ? this.specialAll : this.specialUser;
    if (special === undefined) {
      yield* this.encodeOrdinary(text, out);
      return;
    }
    const plain = options.parseSpecial ? (options.plainRanges ?? []) : [];
    let last = 0;
    for (const m of text.matchAll(special)) {
      const end = m.index + m[0].length;
      if (plain.some(([b, e]) => m.index < e && end > b)) continue; // user text: stays ordinary
      if (m.index > last) yield* this.encodeOrdinary(text.slice(last, m.index), out);
      out.push(this.vocab.get(m[0]) as number);
      last = m.index + m[0].length;
    }
    if (last < text.length) yield* this.encodeOrdinary(text.slice(last), out);
  }

  /** Encodes text that holds no special tokens: pre-tokenize, then BPE each word. */
  private *encodeOrdinary(text: string, out: number[]): Generator<void> {
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
      for (const ch of sym) {
        const byteId = this.vocab.get(ch) ?? this.unkId;
        if (byteId === undefined) {
          throw new TokenizerError(
            "UNENCODABLE",
            `byte 0x${tokenTextToBytes(ch)?.[0]?.toString(16) ?? "??"} has no token and the vocabulary has no unknown token`,
          );
        }
        ids.push(byteId);
      }
    }
    return ids;
  }

  private checkId(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TokenizerError("TOKEN_RANGE", `token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
    }
  }

  /**
   * The raw bytes one token stands for (may be part of a UTF-8 sequence). Control tokens give no
   * bytes unless `renderSpecial`.
   */
  decodePiece(id: number, options: DecodeOptions = {}): Uint8Array {
    this.checkId(id);
    const type = this.types[id];
    if (type === TokenType.CONTROL || type === TokenType.UNKNOWN) {
      return options.renderSpecial ? utf8.encode(this.tokens[id] as string) : EMPTY;
    }
    const cached = this.pieces[id];
    if (cached) return cached;
    const text = this.tokens[id] as string;
    let piece: Uint8Array;
    if (type === TokenType.UNUSED) piece = EMPTY;
    else if (type === TokenType.USER_DEFINED) piece = utf8.encode(text);
    else if (type === TokenType.BYTE && /^<0x[0-9A-Fa-f]{2}>$/.test(text)) piece = Uint8Array.of(Number.parseInt(text.slice(3, 5), 16));
    else piece = tokenTextToBytes(text) ?? utf8.encode(text);
    this.pieces[id] = piece;
    return piece;
  }

  /**
   * Token ids -> text. Invalid or incomplete UTF-8 becomes U+FFFD.
   * @example tok.decode(tok.encode("héllo 🦙", { addBos: false })) === "héllo 🦙"
   */
  decode(ids: readonly number[], options: DecodeOptions = {}): string {
    const parts = ids.map((id) => this.decodePiece(id, options));
    const total = parts.reduce((n, p) => n + p.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      bytes.set(p, at);
      at += p.length;
    }
    // ignoreBOM keeps a leading U+FEFF the model produced instead of silently dropping it.
    return new TextDecoder("utf-8", { ignoreBOM: true }).decode(bytes);
  }

  /** The stored (byte-mapped) text of a token. */
  tokenText(id: number): string {
    this.checkId(id);
    return this.tokens[id] as string;
  }

  /** The id of a stored token text, if any. */
  tokenId(text: string): number | undefined {
    return this.vocab.get(text);
  }

  /** Whether `id` is a control token (`<|eot_id|>` and friends). */
  isControl(id: number): boolean {
    this.checkId(id);
    return this.types[id] === TokenType.CONTROL;
  }

  /** Whether generating `id` ends a sequence. */
  isEos(id: number): boolean {
    return this.eosIds.has(id);
  }
}
