/**
 * What every GGUF vocabulary shares, whatever its model (docs/bitnet-format.md §4): token texts and
 * types, BOS/EOS, splitting text around special tokens the way llama.cpp does, decoding to bytes,
 * and an encoder that yields to the event loop. Subclasses say how ordinary text becomes ids
 * (byte-level BPE, SentencePiece) and what bytes a normal token stands for.
 */
import { TokenizerError } from "./errors.ts";

/** `tokenizer.ggml.token_type` values (llama.cpp's llama_token_type). */
export const TokenType = {
  NORMAL: 1,
  UNKNOWN: 2,
  CONTROL: 3,
  USER_DEFINED: 4,
  UNUSED: 5,
  BYTE: 6,
} as const;

/** What the shared part of a tokenizer is built from; field names follow the GGUF keys. */
export interface VocabularyConfig {
  /** Token texts as stored, index = id. */
  readonly tokens: readonly string[];
  /** One {@link TokenType} per token; when absent, tokens shaped `<|…|>` count as control tokens. */
  readonly tokenTypes?: ArrayLike<number>;
  readonly bosId?: number;
  readonly eosId?: number;
  /** Whether `encode` prepends BOS by default (`tokenizer.ggml.add_bos_token`, default true). */
  readonly addBos?: boolean;
}

/** Options of {@link Tokenizer.encode}. */
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

/** Options of {@link Tokenizer.decode} and {@link Tokenizer.decodePiece}. */
export interface DecodeOptions {
  /** Render control tokens as their text instead of nothing (default false). */
  readonly renderSpecial?: boolean;
}

export const EMPTY = new Uint8Array(0);
export const utf8 = new TextEncoder();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
}

/** A regex matching any of `texts`, longest first so the longest special token wins. */
function alternation(texts: string[]): RegExp | undefined {
  if (texts.length === 0) return undefined;
  const sorted = [...new Set(texts)].sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
  return new RegExp(sorted.map(escapeRegExp).join("|"), "gu");
}

/** Bytes of `s` in UTF-8 (a lone surrogate counts as U+FFFD's 3), without encoding it. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export abstract class Tokenizer {
  /** Number of tokens in the vocabulary. */
  readonly vocabSize: number;
  readonly bosId: number | undefined;
  readonly eosId: number | undefined;
  readonly addBos: boolean;
  /** Ids that end a generation: the file's EOS and the end-of-turn tokens the vocabulary has. */
  readonly eosIds: ReadonlySet<number>;

  protected readonly tokens: readonly string[];
  protected readonly types: Uint8Array;
  protected readonly vocab = new Map<string, number>();
  protected readonly unkId: number | undefined;
  private readonly specialAll: RegExp | undefined;
  private readonly specialUser: RegExp | undefined;
  private readonly pieces: (Uint8Array | undefined)[];

  constructor(config: VocabularyConfig) {
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
    const checkId = (id: number | undefined, what: string) => {
      if (id !== undefined && (!Number.isInteger(id) || id < 0 || id >= n)) {
        throw new TokenizerError("BAD_VOCAB", `${what} ${id} is outside the ${n}-token vocabulary`);
      }
      return id;
    };
    this.bosId = checkId(config.bosId, "bos_token_id");
    this.eosId = checkId(config.eosId, "eos_token_id");
    this.addBos = (config.addBos ?? true) && this.bosId !== undefined;
    const unk = this.types.indexOf(TokenType.UNKNOWN);
    this.unkId = unk < 0 ? undefined : unk;

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

  /**
   * Encode a stretch of text that holds no special tokens, appending to `out`; yield now and then
   * so long texts can be encoded in slices. `afterSpecial`: the stretch starts the text or follows
   * a special token (SentencePiece adds its space prefix there).
   */
  protected abstract encodeText(text: string, afterSpecial: boolean, out: number[]): Generator<void>;

  /** The bytes a NORMAL token's stored text stands for. */
  protected abstract normalPiece(text: string): Uint8Array;

  /** normalPiece(text).length, without allocating (maxPieceBytes runs it over the vocabulary). */
  protected abstract normalPieceLength(text: string): number;

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

  /** Split around special tokens (llama.cpp's partition), encoding the text between them. */
  private *encodeSteps(text: string, options: EncodeOptions, out: number[]): Generator<void> {
    if ((options.addBos ?? this.addBos) && this.bosId !== undefined) out.push(this.bosId);
    const special = options.parseSpecial ? this.specialAll : this.specialUser;
    if (special === undefined) {
      if (text.length > 0) yield* this.encodeText(text, true, out);
      return;
    }
    const plain = options.parseSpecial ? (options.plainRanges ?? []) : [];
    let last = 0;
    let afterSpecial = true;
    for (const m of text.matchAll(special)) {
      const end = m.index + m[0].length;
      if (plain.some(([b, e]) => m.index < e && end > b)) continue; // user text: stays ordinary
      if (m.index > last) yield* this.encodeText(text.slice(last, m.index), afterSpecial, out);
      out.push(this.vocab.get(m[0]) as number);
      afterSpecial = true;
      last = end;
    }
    if (last < text.length) yield* this.encodeText(text.slice(last), afterSpecial, out);
  }

  /** The id of a byte that has no token of its own, or an UNENCODABLE error. */
  protected unknownByte(byte: number): number {
    if (this.unkId !== undefined) return this.unkId;
    throw new TokenizerError(
      "UNENCODABLE",
      `byte 0x${byte.toString(16).padStart(2, "0")} has no token and the vocabulary has no unknown token`,
    );
  }

  protected checkId(id: number): void {
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
    else piece = this.normalPiece(text);
    this.pieces[id] = piece;
    return piece;
  }

  /**
   * The most bytes any one token stands for (control tokens rendered as nothing), computed
   * without filling decodePiece's cache: 128k cached pieces would cost an agent ~10 MB.
   */
  maxPieceBytes(): number {
    let most = 1;
    for (let id = 0; id < this.vocabSize; id++) {
      const cached = this.pieces[id];
      const type = this.types[id];
      let n: number;
      if (cached) n = cached.length;
      else if (type === TokenType.CONTROL || type === TokenType.UNKNOWN || type === TokenType.UNUSED) n = 0;
      else if (type === TokenType.BYTE && /^<0x[0-9A-Fa-f]{2}>$/.test(this.tokens[id] as string)) n = 1;
      else if (type === TokenType.USER_DEFINED) n = utf8.encode(this.tokens[id] as string).length;
      else n = this.normalPieceLength(this.tokens[id] as string);
      if (n > most) most = n;
    }
    return most;
  }

  /**
   * Token ids -> text: the pieces joined, as llama.cpp joins them (a SentencePiece text keeps the
   * space its prefix added). Invalid or incomplete UTF-8 becomes U+FFFD.
   * @example tok.decode(tok.encode("héllo 🦙", { addBos: false })) === "héllo 🦙" // byte-level BPE
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

  /** The stored text of a token. */
  tokenText(id: number): string {
    this.checkId(id);
    return this.tokens[id] as string;
  }

  /** The id of a stored token text, if any. */
  tokenId(text: string): number | undefined {
    return this.vocab.get(text);
  }

  /** Whether `id` is a control token (`<|eot_id|>`, `<s>` and friends). */
  isControl(id: number): boolean {
    this.checkId(id);
    return this.types[id] === TokenType.CONTROL;
  }

  /** Whether generating `id` ends a sequence. */
  isEos(id: number): boolean {
    return this.eosIds.has(id);
  }
}
