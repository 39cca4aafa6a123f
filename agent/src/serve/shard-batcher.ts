/**
 * Continuous batching over one native shard: every session asks "run these rows of my sequence
 * from this position (and give me the logits of the last one)"; requests made in the same turn
 * of the event loop are merged into one forward call, so each weight is streamed once for all
 * of them, and one head call serves every logits request. The engine is batch-invariant (a
 * row's result does not depend on its neighbours), so batching never changes any output.
 */
import { EnergyMeter } from "../energy/energy-meter.ts";
import type { NativeModel, NativePool, NativeShard } from "../kernels/engine.ts";

export interface BatchResult {
  /** This request's output rows [n][nEmbd]. */
  hidden: Float32Array;
  /** Logits [nVocab] of the last row, when asked for. */
  logits: Float32Array | null;
  /** Process CPU time (user + system, all threads) of the call, this request's share by rows, ms. */
  cpuMs: number;
  /** Energy of the call attributed to this process (EnergyMeter), this request's share by rows, mJ. */
  energyMj: number;
}

interface Pending {
  seq: number;
  hidden: Float32Array;
  n: number;
  pos0: number;
  wantLogits: boolean;
  resolve: (r: BatchResult) => void;
  reject: (err: unknown) => void;
}

export class ShardBatcher {
  private queue: Pending[] = [];
  private scheduled = false;

  /** @param maxRows rows per forward call at most (bounds scratch memory and step latency). */
  constructor(
    private readonly model: NativeModel,
    private readonly shard: NativeShard,
    private readonly pool: NativePool | null,
    private readonly maxRows: number,
    private readonly meter: EnergyMeter = EnergyMeter.detect(),
  ) {}

  run(seq: number, hidden: Float32Array, n: number, pos0: number, wantLogits: boolean): Promise<BatchResult> {
    if (n < 1 || n > this.maxRows) return Promise.reject(new RangeError(`a step takes 1..${this.maxRows} rows, got ${n}`));
    return new Promise((resolve, reject) => {
      this.queue.push({ seq, hidden, n, pos0, wantLogits, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    // Arrival order, up to maxRows, and one request per sequence per call (a sequence's next
    // rows depend on this call's cache writes).
    const batch: Pending[] = [];
    const rest: Pending[] = [];
    const seqs = new Set<number>();
    let rows = 0;
    for (const p of this.queue) {
      if (rows + p.n <= this.maxRows && !seqs.has(p.seq)) {
        batch.push(p);
        seqs.add(p.seq);
        rows += p.n;
      } else rest.push(p);
    }
    this.queue = rest;
    if (rest.length > 0) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    try {
      this.execute(batch, rows);
    } catch {
      // The engine checks a whole call before changing anything: run each request alone so
      // only the offending one fails.
      for (const p of batch) {
        try {
          this.execute([p], p.n);
        } catch (err) {
          p.reject(err);
        }
      }
    }
  }

  private execute(batch: Pending[], rows: number): void {
    const nEmbd = this.shard.nEmbd;
    const seq = new Int32Array(rows);
    const pos = new Int32Array(rows);
    const input = new Float32Array(rows * nEmbd);
    let r = 0;
    for (const p of batch) {
      input.set(p.hidden.subarray(0, p.n * nEmbd), r * nEmbd);
      for (let i = 0; i < p.n; i++, r++) {
        seq[r] = p.seq;
        pos[r] = p.pos0 + i;
      }
    }
    const wanting = batch.filter((p) => p.wantLogits);
    const nVocab = this.model.info.nVocab;
    const { result, mj, cpuMs } = this.meter.measure(() => {
      const out = this.shard.forward(this.pool, seq, pos, input);
      let logits: Float32Array | null = null;
      if (wanting.length > 0) {
        const last = new Float32Array(wanting.length * nEmbd);
        let offset = 0;
        let k = 0;
        for (const p of batch) {
          offset += p.n;
          if (p.wantLogits) last.set(out.subarray((offset - 1) * nEmbd, offset * nEmbd), k++ * nEmbd);
        }
        logits = this.model.logitsParallel(this.pool, last, wanting.length);
      }
      return { out, logits };
    });
    const { out, logits } = result;
    const cpuMsPerRow = cpuMs / rows;
    const mjPerRow = mj / rows;
    let offset = 0;
    let k = 0;
    for (const p of batch) {
      const hidden = out.slice(offset * nEmbd, (offset + p.n) * nEmbd);
      offset += p.n;
      const mine = p.wantLogits && logits ? logits.slice(k * nVocab, ++k * nVocab) : null;
      p.resolve({ hidden, logits: mine, cpuMs: cpuMsPerRow * p.n, energyMj: mjPerRow * p.n });
    }
  }
}
