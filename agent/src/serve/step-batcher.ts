/**
 * Continuous batching: every generation asks for "run these tokens of my sequence from this
 * position and give me the logits of the last one"; requests made in the same turn of the event
 * loop are merged into one engine call, so each weight is streamed once for all of them. The
 * engine is batch-invariant (a row's result does not depend on its neighbours), so batching
 * never changes any sequence's output.
 */

/** What the batcher needs from the engine (the native shard, or a test double). */
export interface BatchEngine {
  readonly nEmbd: number;
  readonly nVocab: number;
  embed(tokens: readonly number[]): Float32Array;
  /** Run all layers on rows of several sequences: seq[r] at pos[r]. */
  forward(seq: Int32Array, pos: Int32Array, hidden: Float32Array): Float32Array;
  logits(hidden: Float32Array, n: number): Float32Array;
}

interface StepRequest {
  seq: number;
  tokens: readonly number[];
  pos0: number;
  resolve: (logits: Float32Array) => void;
  reject: (err: unknown) => void;
}

export class StepBatcher {
  private queue: StepRequest[] = [];
  private scheduled = false;

  /** @param maxRows upper bound of rows per engine call (bounds scratch memory and latency). */
  constructor(
    private readonly engine: BatchEngine,
    private readonly maxRows: number,
  ) {}

  /** Logits [nVocab] after feeding `tokens` to sequence `seq` at positions pos0, pos0+1, …. */
  step(seq: number, tokens: readonly number[], pos0: number): Promise<Float32Array> {
    if (tokens.length === 0 || tokens.length > this.maxRows) {
      return Promise.reject(new RangeError(`a step takes 1..${this.maxRows} tokens, got ${tokens.length}`));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ seq, tokens, pos0, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Requests waiting for the next engine call. */
  get pending(): number {
    return this.queue.length;
  }

  private flush(): void {
    this.scheduled = false;
    // Take requests in arrival order up to maxRows; a sequence appears at most once per call
    // (its next step is only requested after this one resolves).
    const batch: StepRequest[] = [];
    let rows = 0;
    while (this.queue.length > 0 && rows + this.queue[0]!.tokens.length <= this.maxRows) {
      const next = this.queue.shift()!;
      batch.push(next);
      rows += next.tokens.length;
    }
    if (this.queue.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    try {
      const seq = new Int32Array(rows);
      const pos = new Int32Array(rows);
      const tokens: number[] = [];
      let r = 0;
      for (const req of batch) {
        req.tokens.forEach((t, i) => {
          seq[r] = req.seq;
          pos[r] = req.pos0 + i;
          tokens.push(t);
          r++;
        });
      }
      const hidden = this.engine.forward(seq, pos, this.engine.embed(tokens));
      // Only each request's last row needs logits: gather those rows and run the head once.
      const { nEmbd, nVocab } = this.engine;
      const last = new Float32Array(batch.length * nEmbd);
      let end = 0;
      batch.forEach((req, i) => {
        end += req.tokens.length;
        last.set(hidden.subarray((end - 1) * nEmbd, end * nEmbd), i * nEmbd);
      });
      const logits = this.engine.logits(last, batch.length);
      for (const [i, req] of batch.entries()) req.resolve(logits.slice(i * nVocab, (i + 1) * nVocab));
    } catch (err) {
      for (const req of batch) req.reject(err);
    }
  }
}
