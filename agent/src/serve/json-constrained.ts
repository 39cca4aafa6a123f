/**
 * Constrained decoding for `response_format` (docs/api.md, "Structured output"): the chosen token
 * must keep the output a prefix of a JSON text matching the schema, and the end of text is chosen
 * as soon as (and only when) the value is complete. Sampling stays the request's own: a token is
 * drawn from the distribution, and one that would break the JSON is masked and the draw repeated —
 * which samples exactly from the distribution renormalized over valid tokens (greedy at
 * temperature 0 takes the best valid token).
 */
import { JsonPrefix } from "../../../shared/json/json-prefix.ts";
import type { Schema } from "../../../shared/json/schema-subset.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { type SamplingOptions, sampleToken } from "./sampler.ts";

/** Draws before scanning the whole vocabulary for the best valid token. */
const MAX_DRAWS = 64;

export class JsonConstraint {
  private readonly prefix: JsonPrefix;

  constructor(
    private readonly model: LoadedModel,
    schema: Schema,
  ) {
    this.prefix = new JsonPrefix(schema);
  }

  /** Replay a token already generated (failover): it was valid then, so it is now. */
  accept(id: number): void {
    this.prefix.feed(this.model.tokenizer.decodePiece(id));
  }

  /** The next token id, or the end-of-text id once the value is complete. */
  choose(logits: Float32Array, sampling: SamplingOptions, random: () => number): number {
    const end = this.model.endOfTextId;
    if (this.prefix.complete) return end;
    let masked: Float32Array | null = null;
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      const id = sampleToken(masked ?? logits, sampling, random);
      if (this.take(id)) return id;
      masked ??= new Float32Array(logits);
      masked[id] = Number.NEGATIVE_INFINITY;
    }
    // Rarely reached: the best valid token by logit.
    const order = Array.from(masked ?? logits, (v, i) => [v, i] as const)
      .filter(([v]) => v > Number.NEGATIVE_INFINITY)
      .sort((a, b) => b[0] - a[0] || a[1] - b[1]);
    for (const [, id] of order) if (this.take(id)) return id;
    return end; // nothing can continue it (cannot happen with a tokenizer that has every byte)
  }

  /** Whether the token keeps the output valid; if so it is taken. */
  private take(id: number): boolean {
    if (this.model.isEndOfGeneration(id)) return false; // only chosen above, once complete
    const piece = this.model.tokenizer.decodePiece(id);
    if (piece.length === 0) return false; // control tokens add nothing: never progress
    const trial = this.prefix.clone();
    if (!trial.feed(piece)) return false;
    this.prefix.feed(piece);
    return true;
  }
}
