/**
 * Incremental detokenization for streaming: a token may end in the middle of a UTF-8 sequence
 * (an emoji is often split over two byte-level tokens), so bytes are held back until they form
 * whole characters.
 */
import type { DecodeOptions, Tokenizer } from "./tokenizer.ts";

/**
 * Turns a stream of token ids into text pieces that never split a character.
 * @example const s = new TokenTextStream(tok); for (const id of ids) send(s.push(id)); send(s.flush())
 */
export class TokenTextStream {
  private readonly decoder = new TextDecoder("utf-8", { ignoreBOM: true });

  constructor(
    private readonly tokenizer: Tokenizer,
    private readonly options: DecodeOptions = {},
  ) {}

  /** Adds one token; returns the text it completes (possibly ""). */
  push(id: number): string {
    return this.decoder.decode(this.tokenizer.decodePiece(id, this.options), { stream: true });
  }

  /** Ends the stream; bytes of an unfinished character come out as U+FFFD. Resets for reuse. */
  flush(): string {
    return this.decoder.decode();
  }
}
