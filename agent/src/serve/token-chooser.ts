/**
 * The last stage's per-request state: picks each next token from logits and turns tokens into
 * final text (streaming detokenizer + stop strings), deciding when the request is finished.
 * It can be rebuilt mid-request from the tokens generated so far (failover), giving exactly the
 * choices the lost stage would have made.
 */

import { ANY_OBJECT, parseSchema } from "../../../shared/json/schema-subset.ts";
import type { SamplingParams } from "../../../shared/protocol/messages.ts";
import { JsonConstraint } from "./json-constrained.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { logprobsOf, processesLogits, processLogits, TokenCounts } from "./logit-processing.ts";
import { sampleToken } from "./sampler.ts";
import { seededRandom } from "./seeded-random.ts";
import { StopMatcher } from "./stop-matcher.ts";

export interface Choice {
  /** The new token, or null when the model ended the text (its end token is not counted). */
  tokenId: number | null;
  /** Text that became final with this choice. */
  text: string;
  /** Set when the request is complete after this choice. */
  finish: "stop" | "length" | null;
  /** With topLogprobs asked for and a token chosen: its log-probability and the top alternatives. */
  logprobs: TokenLogprobs | null;
}

export interface TokenLogprob {
  token: string;
  bytes: number[];
  logprob: number;
}
export type TokenLogprobs = TokenLogprob & { top: TokenLogprob[] };

const lossy = new TextDecoder();

export class TokenChooser {
  private readonly constraint: JsonConstraint | null;
  private readonly text;
  private readonly stopper: StopMatcher;
  private generated = 0;
  private readonly counts = new TokenCounts();

  /** `seed` must be fixed by the caller (the coordinator picks one when the client gives none). */
  constructor(
    private readonly model: LoadedModel,
    private readonly params: SamplingParams & { seed: number },
    history: readonly number[] = [],
  ) {
    this.text = model.textStream();
    this.stopper = new StopMatcher(params.stop);
    this.constraint = params.json
      ? new JsonConstraint(model, params.json.schema === null ? ANY_OBJECT : parseSchema(params.json.schema))
      : null;
    for (const id of history) {
      this.constraint?.accept(id);
      this.stopper.push(this.text.push(id));
      this.counts.add(id);
      this.generated++;
    }
  }

  /** Number of tokens generated so far, history included. */
  get count(): number {
    return this.generated;
  }

  choose(raw: Float32Array): Choice {
    const logits = processesLogits(this.params) ? processLogits(raw, this.params, this.counts) : raw;
    // Each step draws from a generator of its own (seed, step): a replay needs no draws, and
    // constrained decoding may draw several times for one token.
    const random = seededRandom(stepSeed(this.params.seed, this.generated));
    const id = this.constraint ? this.constraint.choose(logits, this.params, random) : sampleToken(logits, this.params, random);
    if (this.model.isEndOfGeneration(id)) return { tokenId: null, text: this.tail(), finish: "stop", logprobs: null };
    this.generated++;
    this.counts.add(id);
    const logprobs = this.params.topLogprobs === undefined ? null : this.logprobsOf(logits, id, this.params.topLogprobs);
    const piece = this.stopper.push(this.text.push(id));
    if (piece.stopped) return { tokenId: id, text: piece.emit, finish: "stop", logprobs };
    if (this.generated >= this.params.maxTokens) return { tokenId: id, text: piece.emit + this.tail(), finish: "length", logprobs };
    return { tokenId: id, text: piece.emit, finish: null, logprobs };
  }

  private logprobsOf(logits: Float32Array, id: number, top: number): TokenLogprobs {
    const lp = logprobsOf(logits, id, top);
    return { ...this.tokenOf(id, lp.logprob), top: lp.top.map((t) => this.tokenOf(t.id, t.logprob)) };
  }

  /** A token as OpenAI reports it: its text (lossy for a partial UTF-8 sequence) and its bytes. */
  private tokenOf(id: number, logprob: number): TokenLogprob {
    const bytes = this.model.tokenizer.decodePiece(id, { renderSpecial: true });
    return { token: lossy.decode(bytes), bytes: [...bytes], logprob };
  }

  /** Held-back text released at the end (cut at a stop string if the flush completes one). */
  private tail(): string {
    const rest = this.stopper.push(this.text.flush());
    return rest.emit + (rest.stopped ? "" : this.stopper.flush());
  }
}

/** The seed of step k: the request's seed mixed with the step (a 32-bit multiplicative hash). */
function stepSeed(seed: number, k: number): number {
  return (Math.imul((seed ^ Math.imul(k + 1, 0x9e3779b1)) >>> 0, 0x85ebca6b) ^ (k >>> 0)) >>> 0;
}
