/**
 * Safe classes over libaria: they own the native handles, check every status, and free in
 * close(). A session must be closed before its model.
 */
import type { Pointer } from "bun:ffi";
import { type AriaLibrary, openAriaLibrary } from "./ffi.ts";

/** A failed native call: the library's status code, its stable name, and a message. */
export class KernelError extends Error {
  constructor(
    readonly status: number,
    readonly statusName: string,
    message: string,
  ) {
    super(message);
  }
}

/** Hyperparameters reported by aria_model_info, in ARIA_INFO_* slot order. */
export interface ModelInfo {
  nVocab: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  nHeadKv: number;
  headDim: number;
  nFf: number;
  nCtxTrain: number;
  arch: number;
  ffnAct: number;
}
const INFO_SLOTS: (keyof ModelInfo)[] = ["nVocab", "nEmbd", "nLayer", "nHead", "nHeadKv", "headDim", "nFf", "nCtxTrain", "arch", "ffnAct"];

const ERR_LEN = 512;
const HEAD_AS_IS = 0;
const HEAD_Q8_0 = 1;
const encoder = new TextEncoder();

function cString(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

function readCString(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}

function pointerOf(out: BigUint64Array): Pointer {
  return Number(out[0]) as Pointer;
}

/** The loaded native library. Example: `const k = Kernels.open(path); const m = k.loadModel(gguf);` */
export class Kernels {
  private constructor(
    readonly lib: AriaLibrary,
    private readonly handle: { close(): void },
  ) {}

  static open(path: string): Kernels {
    const opened = openAriaLibrary(path);
    return new Kernels(opened.symbols, opened);
  }

  /** libaria's numerics version: builds reporting the same one compute the same bits. */
  numericsVersion(): number {
    return this.lib.aria_numerics_version();
  }

  statusName(status: number): string {
    return String(this.lib.aria_status_name(status));
  }

  check(status: number, what: string): void {
    if (status !== 0) {
      const name = this.statusName(status);
      throw new KernelError(status, name, `${what}: ${name}`);
    }
  }

  /**
   * Load and validate a GGUF model; a bad file throws KernelError with the library's message.
   * `head: "q8_0"` requantizes a float output head to Q8_0 at load (about half the bytes read
   * per token; see docs/kernels-abi.md for the measured quality cost). `layers: [begin, end)`
   * loads only what those layers need (docs/kernels-abi.md, "Range loads"): the embedding only
   * when begin is 0, the head only when end is the last layer.
   */
  loadModel(path: string, options: { head?: "as-is" | "q8_0"; layers?: readonly [number, number] } = {}): NativeModel {
    const out = new BigUint64Array(1);
    const err = new Uint8Array(ERR_LEN);
    const head = options.head === "q8_0" ? HEAD_Q8_0 : HEAD_AS_IS;
    const status = options.layers
      ? this.lib.aria_model_load_range(cString(path), head, options.layers[0], options.layers[1], out, err, ERR_LEN)
      : this.lib.aria_model_load_ex(cString(path), head, out, err, ERR_LEN);
    if (status !== 0) throw new KernelError(status, this.statusName(status), readCString(err) || this.statusName(status));
    return new NativeModel(this, pointerOf(out));
  }

  /** A pool of n worker threads (the caller is one of them). */
  createPool(threads: number): NativePool {
    const out = new BigUint64Array(1);
    this.check(this.lib.aria_pool_create(threads, out), "aria_pool_create");
    return new NativePool(this, pointerOf(out));
  }

  close(): void {
    this.handle.close();
  }
}

export class NativePool {
  private handle: Pointer | null;

  constructor(
    private readonly kernels: Kernels,
    handle: Pointer,
  ) {
    this.handle = handle;
  }

  get ptr(): Pointer {
    if (this.handle === null) throw new Error("pool is closed");
    return this.handle;
  }

  get threads(): number {
    return this.kernels.lib.aria_pool_threads(this.ptr);
  }

  close(): void {
    if (this.handle !== null) this.kernels.lib.aria_pool_free(this.handle);
    this.handle = null;
  }
}

/**
 * Layers [layerBegin, layerEnd) with the KV caches of up to nSeqMax sequences; one forward call
 * takes rows of several sequences at different positions (continuous batching).
 */
export class NativeShard {
  private handle: Pointer | null;

  constructor(
    private readonly kernels: Kernels,
    handle: Pointer,
    readonly nEmbd: number,
    readonly layerBegin: number,
    readonly layerEnd: number,
  ) {
    this.handle = handle;
  }

  private get ptr(): Pointer {
    if (this.handle === null) throw new Error("shard is closed");
    return this.handle;
  }

  /** A sequence slot with a KV cache for nCtx positions; returns its id. */
  openSequence(nCtx: number): number {
    const out = new Int32Array(1);
    this.kernels.check(this.kernels.lib.aria_seq_open(this.ptr, nCtx, out), "aria_seq_open");
    return out[0]!;
  }

  closeSequence(seq: number): void {
    this.kernels.check(this.kernels.lib.aria_seq_close(this.ptr, seq), "aria_seq_close");
  }

  truncate(seq: number, nPast: number): void {
    this.kernels.check(this.kernels.lib.aria_seq_truncate(this.ptr, seq, nPast), "aria_seq_truncate");
  }

  nPast(seq: number): number {
    return this.kernels.lib.aria_seq_n_past(this.ptr, seq);
  }

  /** Rows of several sequences: row r is sequence seq[r] at position pos[r]. */
  forward(pool: NativePool | null, seq: Int32Array, pos: Int32Array, hidden: Float32Array): Float32Array {
    const n = seq.length;
    if (pos.length !== n || hidden.length < n * this.nEmbd) throw new RangeError("seq, pos and hidden disagree on the row count");
    const out = new Float32Array(n * this.nEmbd);
    this.kernels.check(this.kernels.lib.aria_shard_forward(this.ptr, pool?.ptr ?? null, n, seq, pos, hidden, out), "aria_shard_forward");
    return out;
  }

  get memoryBytes(): number {
    return Number(this.kernels.lib.aria_shard_memory(this.ptr));
  }

  close(): void {
    if (this.handle !== null) this.kernels.lib.aria_shard_free(this.handle);
    this.handle = null;
  }
}

export class NativeModel {
  readonly info: ModelInfo;
  private handle: Pointer | null;

  constructor(
    private readonly kernels: Kernels,
    handle: Pointer,
  ) {
    this.handle = handle;
    const slots = new Int32Array(INFO_SLOTS.length);
    kernels.check(kernels.lib.aria_model_info(handle, slots, slots.length), "aria_model_info");
    this.info = Object.fromEntries(INFO_SLOTS.map((k, i) => [k, slots[i]!])) as unknown as ModelInfo;
  }

  /** The numerics version of the library this model runs on (Kernels.numericsVersion). */
  get numericsVersion(): number {
    return this.kernels.numericsVersion();
  }

  private get ptr(): Pointer {
    if (this.handle === null) throw new Error("model is closed");
    return this.handle;
  }

  /** Embedding rows for tokens: [n][nEmbd]. */
  embed(tokens: readonly number[]): Float32Array {
    const ids = Int32Array.from(tokens);
    const out = new Float32Array(ids.length * this.info.nEmbd);
    this.kernels.check(this.kernels.lib.aria_embed(this.ptr, ids, ids.length, out), "aria_embed");
    return out;
  }

  /** Final norm + head on n hidden rows: [n][nVocab]. */
  logits(hidden: Float32Array, n: number): Float32Array {
    if (hidden.length < n * this.info.nEmbd) throw new RangeError("hidden buffer is shorter than n rows");
    const out = new Float32Array(n * this.info.nVocab);
    this.kernels.check(this.kernels.lib.aria_logits(this.ptr, hidden, n, out), "aria_logits");
    return out;
  }

  /** Final norm + head on n hidden rows, the vocabulary split over the pool's threads. */
  logitsParallel(pool: NativePool | null, hidden: Float32Array, n: number): Float32Array {
    if (hidden.length < n * this.info.nEmbd) throw new RangeError("hidden buffer is shorter than n rows");
    const out = new Float32Array(n * this.info.nVocab);
    this.kernels.check(this.kernels.lib.aria_logits_mt(this.ptr, pool?.ptr ?? null, hidden, n, out), "aria_logits_mt");
    return out;
  }

  /** Layers [layerBegin, layerEnd) for up to nSeqMax sequences. */
  createShard(layerBegin: number, layerEnd: number, nSeqMax: number): NativeShard {
    const out = new BigUint64Array(1);
    const err = new Uint8Array(ERR_LEN);
    const status = this.kernels.lib.aria_shard_create(this.ptr, layerBegin, layerEnd, nSeqMax, out, err, ERR_LEN);
    if (status !== 0) throw new KernelError(status, this.kernels.statusName(status), readCString(err) || this.kernels.statusName(status));
    return new NativeShard(this.kernels, pointerOf(out), this.info.nEmbd, layerBegin, layerEnd);
  }

  /** A sequence's KV cache and scratch for layers [layerBegin, layerEnd), positions < nCtx. */
  createSession(layerBegin: number, layerEnd: number, nCtx: number): NativeSession {
    const out = new BigUint64Array(1);
    const err = new Uint8Array(ERR_LEN);
    const status = this.kernels.lib.aria_session_create(this.ptr, layerBegin, layerEnd, nCtx, out, err, ERR_LEN);
    if (status !== 0) throw new KernelError(status, this.kernels.statusName(status), readCString(err) || this.kernels.statusName(status));
    return new NativeSession(this.kernels, pointerOf(out), this.info.nEmbd, layerBegin, layerEnd, nCtx);
  }

  memory(): { mapped: number; allocated: number } {
    const mapped = new BigUint64Array(1);
    const allocated = new BigUint64Array(1);
    this.kernels.check(this.kernels.lib.aria_model_memory(this.ptr, mapped, allocated), "aria_model_memory");
    return { mapped: Number(mapped[0]), allocated: Number(allocated[0]) };
  }

  close(): void {
    if (this.handle !== null) this.kernels.lib.aria_model_free(this.handle);
    this.handle = null;
  }
}

export class NativeSession {
  private handle: Pointer | null;

  constructor(
    private readonly kernels: Kernels,
    handle: Pointer,
    readonly nEmbd: number,
    readonly layerBegin: number,
    readonly layerEnd: number,
    readonly nCtx: number,
  ) {
    this.handle = handle;
  }

  private get ptr(): Pointer {
    if (this.handle === null) throw new Error("session is closed");
    return this.handle;
  }

  /** Run this session's layers on n rows at positions pos0…pos0+n-1; returns new hidden rows. */
  forward(hidden: Float32Array, n: number, pos0: number): Float32Array {
    if (hidden.length < n * this.nEmbd) throw new RangeError("hidden buffer is shorter than n rows");
    const out = new Float32Array(n * this.nEmbd);
    this.kernels.check(this.kernels.lib.aria_session_forward(this.ptr, hidden, n, pos0, out), "aria_session_forward");
    return out;
  }

  /** Keep positions [0, nPast) of the cache. */
  truncate(nPast: number): void {
    this.kernels.check(this.kernels.lib.aria_session_truncate(this.ptr, nPast), "aria_session_truncate");
  }

  get nPast(): number {
    return this.kernels.lib.aria_session_n_past(this.ptr);
  }

  get memoryBytes(): number {
    return Number(this.kernels.lib.aria_session_memory(this.ptr));
  }

  close(): void {
    if (this.handle !== null) this.kernels.lib.aria_session_free(this.handle);
    this.handle = null;
  }
}
