/**
 * The last stage's per-request state: picks each next token from logits and turns tokens into
 * final text (streaming detokenizer + stop strings), deciding when the request is finished.
 * It can be rebuilt mid-request from the tokens generated so far (failover), giving exactly the
 * choices the lost stage would have made.
 */
import type { SamplingParams } from "../../../shared/protocol/messages.ts";
import type { LoadedModel } from "./loaded-model.ts";
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
}

export class TokenChooser {
  private readonly random: () => number;
  private readonly text;
  private readonly stopper: StopMatcher;
  private generated = 0;

  /** `seed` must be fixed by the caller (the coordinator picks one when the client gives none). */
  constructor(
    private readonly model: LoadedModel,
    private readonly params: SamplingParams & { seed: number },
    history: readonly number[] = [],
  ) {
    this.random = seededRandom(params.seed);
    this.text = model.textStream();
    this.stopper = new StopMatcher(params.stop);
    for (const id of history) {
      // One draw per sampled token when sampling is random (sampleToken's contract).
      if (params.temperature > 0) this.random();
      this.stopper.push(this.text.push(id));
      this.generated++;
    }
  }

  /** Number of tokens generated so far, history included. */
  get count(): number {
    return this.generated;
  }

  choose(logits: Float32Array): Choice {
    const id = sampleToken(logits, this.params, this.random);
    if (this.model.isEndOfGeneration(id)) return { tokenId: null, text: this.tail(), finish: "stop" };
    this.generated++;
    const piece = this.stopper.push(this.text.push(id));
    if (piece.stopped) return { tokenId: id, text: piece.emit, finish: "stop" };
    if (this.generated >= this.params.maxTokens) return { tokenId: id, text: piece.emit + this.tail(), finish: "length" };
    return { tokenId: id, text: piece.emit, finish: null };
  }

  /** Held-back text released at the end (cut at a stop string if the flush completes one). */
  private tail(): string {
    const rest = this.stopper.push(this.text.flush());
    return rest.emit + (rest.stopped ? "" : this.stopper.flush());
  }
}
