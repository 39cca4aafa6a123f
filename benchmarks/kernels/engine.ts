/**
 * libaria's engine API through bun:ffi's raw symbol table, for the benchmarks: a model, a thread
 * pool, one shard holding every layer and its open sequences. No wrapper allocations sit inside
 * the timed calls (the agent's own wrapper, agent/src/kernels, checks and copies more).
 */
import type { Pointer } from "bun:ffi";
import { openAriaLibrary } from "../../agent/src/kernels/ffi.ts";

const ERR_LEN = 512;
/** ARIA_HEAD_AS_IS (the file's head, F16 here) and ARIA_HEAD_Q8_0 (requantized at load). */
export const HEAD = { f16: 0, q8_0: 1 } as const;
export type HeadKind = keyof typeof HEAD;

function cString(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}
function errText(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}
function outPointer(buf: BigUint64Array): Pointer {
  return Number(buf[0]) as Pointer;
}

export function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export type AriaSymbols = ReturnType<typeof openAriaLibrary>["symbols"];

/** The library, opened once per process. */
export class Library {
  readonly lib: ReturnType<typeof openAriaLibrary>;
  readonly C: AriaSymbols;
  constructor(path: string) {
    this.lib = openAriaLibrary(path);
    this.C = this.lib.symbols;
  }
  check(status: number, what: string): void {
    if (status !== 0) throw new Error(`${what}: ${String(this.C.aria_status_name(status))}`);
  }
  close(): void {
    this.lib.close();
  }
}

export interface ModelInfo {
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nCtxTrain: number;
}

/** A loaded model: its info and the memory it holds (mapped file bytes, allocated copies). */
export class Model {
  readonly ptr: Pointer;
  readonly info: ModelInfo;
  constructor(
    readonly L: Library,
    path: string,
    head: HeadKind,
  ) {
    const out = new BigUint64Array(1);
    const err = new Uint8Array(ERR_LEN);
    const status = L.C.aria_model_load_ex(cString(path), HEAD[head], out, err, ERR_LEN);
    if (status !== 0) throw new Error(`loading ${path}: ${errText(err) || String(L.C.aria_status_name(status))}`);
    this.ptr = outPointer(out);
    const slots = new Int32Array(10);
    L.check(L.C.aria_model_info(this.ptr, slots, slots.length), "aria_model_info");
    this.info = { nVocab: slots[0]!, nEmbd: slots[1]!, nLayer: slots[2]!, nCtxTrain: slots[7]! };
  }
  memory(): { mapped: number; allocated: number } {
    const mapped = new BigUint64Array(1);
    const allocated = new BigUint64Array(1);
    this.L.check(this.L.C.aria_model_memory(this.ptr, mapped, allocated), "aria_model_memory");
    return { mapped: Number(mapped[0]), allocated: Number(allocated[0]) };
  }
  free(): void {
    this.L.C.aria_model_free(this.ptr);
  }
}

/**
 * A pool of `threads` workers and a shard of every layer with `nSeq` sequences of `nCtx`
 * positions. `run` feeds rows (token, sequence, position) and leaves the logits of the last
 * `nLogits` rows in `logits`.
 */
export class Runner {
  private readonly pool: Pointer;
  private readonly shard: Pointer;
  readonly seqs: number[] = [];
  private readonly hidden: Float32Array;
  readonly logits: Float32Array;
  private readonly ids: Int32Array;
  private readonly seqOf: Int32Array;
  private readonly posOf: Int32Array;

  constructor(
    private readonly m: Model,
    threads: number,
    nSeq: number,
    nCtx: number,
    maxRows: number,
  ) {
    const { C } = m.L;
    const poolOut = new BigUint64Array(1);
    m.L.check(C.aria_pool_create(threads, poolOut), "aria_pool_create");
    this.pool = outPointer(poolOut);
    const shardOut = new BigUint64Array(1);
    const err = new Uint8Array(ERR_LEN);
    const st = C.aria_shard_create(m.ptr, 0, m.info.nLayer, nSeq, shardOut, err, ERR_LEN);
    if (st !== 0) throw new Error(`aria_shard_create: ${errText(err)}`);
    this.shard = outPointer(shardOut);
    const seqOut = new Int32Array(1);
    for (let i = 0; i < nSeq; i++) {
      m.L.check(C.aria_seq_open(this.shard, nCtx, seqOut), "aria_seq_open");
      this.seqs.push(seqOut[0]!);
    }
    this.hidden = new Float32Array(maxRows * m.info.nEmbd);
    this.logits = new Float32Array(Math.max(nSeq, 1) * m.info.nVocab);
    this.ids = new Int32Array(maxRows);
    this.seqOf = new Int32Array(maxRows);
    this.posOf = new Int32Array(maxRows);
  }

  /** Rows i < n: token ids[i] of sequence seqs[i] at position pos[i]. */
  run(rows: { id: number; seq: number; pos: number }[], nLogits: number): void {
    const { C } = this.m.L;
    const n = rows.length;
    rows.forEach((r, i) => {
      this.ids[i] = r.id;
      this.seqOf[i] = r.seq;
      this.posOf[i] = r.pos;
    });
    this.m.L.check(C.aria_embed(this.m.ptr, this.ids, n, this.hidden), "aria_embed");
    this.m.L.check(C.aria_shard_forward(this.shard, this.pool, n, this.seqOf, this.posOf, this.hidden, this.hidden), "aria_shard_forward");
    const E = this.m.info.nEmbd;
    this.m.L.check(
      C.aria_logits_mt(this.m.ptr, this.pool, this.hidden.subarray((n - nLogits) * E), nLogits, this.logits),
      "aria_logits_mt",
    );
  }

  /**
   * Forgets sequence `seq` and runs `prompt` into it, `chunk` rows per call (all in one by
   * default; the agent uses 128); returns the argmax of its last row.
   */
  prefill(seq: number, prompt: number[], chunk = prompt.length): number {
    this.m.L.check(this.m.L.C.aria_seq_truncate(this.shard, seq, 0), "aria_seq_truncate");
    for (let at = 0; at < prompt.length; at += chunk) {
      const part = prompt.slice(at, at + chunk);
      this.run(
        part.map((id, i) => ({ id, seq, pos: at + i })),
        1,
      );
    }
    return argmax(this.logits.subarray(0, this.m.info.nVocab));
  }

  /** Row i's logits after a run with nLogits >= i + 1. */
  logitsOf(i: number): Float32Array {
    const V = this.m.info.nVocab;
    return this.logits.subarray(i * V, (i + 1) * V);
  }

  free(): void {
    const { C } = this.m.L;
    for (const seq of this.seqs) C.aria_seq_close(this.shard, seq);
    C.aria_shard_free(this.shard);
    C.aria_pool_free(this.pool);
  }
}
