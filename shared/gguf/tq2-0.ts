/**
 * TQ2_0 ternary blocks (docs/bitnet-format.md §3.1): 256 elements in 66 bytes, `uint8 qs[64]; fp16 d`.
 * Code q = t + 1 ∈ {0, 1, 2}. For chunk c ∈ {0, 1} (32 bytes, 128 elements), byte m ∈ [0, 32) and
 * lane n ∈ [0, 4): element `c·128 + n·32 + m` lives in bits `2n..2n+1` of `qs[c·32 + m]`.
 * Dequantized value = (q − 1)·d.
 */
import { QK_K, TQ2_0_BLOCK_BYTES } from "./constants.ts";
import { f16ToF32, f32ToF16 } from "./f16.ts";

const QS_BYTES = 64;

function checkLength(n: number): void {
  if (!Number.isInteger(n) || n < 0 || n % QK_K !== 0) {
    throw new RangeError(`TQ2_0 needs a multiple of ${QK_K} elements, got ${n}`);
  }
}

/** Index of element `j` (0..255) inside a block: which qs byte, and which 2-bit lane. */
function position(j: number): { byte: number; shift: number } {
  const c = j >>> 7;
  const n = (j >>> 5) & 3;
  const m = j & 31;
  return { byte: c * 32 + m, shift: 2 * n };
}

/** Byte size of `n` elements (a multiple of 256) in TQ2_0. */
export function tq2_0Bytes(n: number): number {
  checkLength(n);
  return (n / QK_K) * TQ2_0_BLOCK_BYTES;
}

/**
 * Packs ternary values (each -1, 0 or +1) with one scale `d` for every block — how a per-tensor
 * absmean-scaled BitNet weight is stored. `d` is stored as float16.
 * @example packTernaryTq2_0(new Int8Array(256).fill(1), 0.5).length === 66
 */
export function packTernaryTq2_0(trits: ArrayLike<number>, d: number): Uint8Array {
  checkLength(trits.length);
  const out = new Uint8Array(tq2_0Bytes(trits.length));
  const dBits = f32ToF16(d);
  for (let b = 0; b < trits.length / QK_K; b++) {
    const base = b * TQ2_0_BLOCK_BYTES;
    for (let j = 0; j < QK_K; j++) {
      const t = trits[b * QK_K + j] as number;
      if (t !== -1 && t !== 0 && t !== 1) {
        throw new RangeError(`element ${b * QK_K + j} is ${t}, not a ternary value`);
      }
      const { byte, shift } = position(j);
      out[base + byte] = (out[base + byte] as number) | ((t + 1) << shift);
    }
    out[base + QS_BYTES] = dBits & 0xff;
    out[base + QS_BYTES + 1] = dBits >>> 8;
  }
  return out;
}

/**
 * ggml's reference quantizer (quantize_row_tq2_0_ref): per block d = max|x| and
 * q = lroundf(x · (1/d)) + 1, computed in float32 like the C code.
 */
export function quantizeTq2_0(x: ArrayLike<number>): Uint8Array {
  checkLength(x.length);
  const out = new Uint8Array(tq2_0Bytes(x.length));
  for (let b = 0; b < x.length / QK_K; b++) {
    let amax = 0;
    for (let j = 0; j < QK_K; j++) amax = Math.max(amax, Math.abs(Math.fround(x[b * QK_K + j] as number)));
    const id = amax !== 0 ? Math.fround(1 / amax) : 0;
    const base = b * TQ2_0_BLOCK_BYTES;
    for (let j = 0; j < QK_K; j++) {
      const v = Math.fround(Math.fround(x[b * QK_K + j] as number) * id);
      const q = Math.sign(v) * Math.round(Math.abs(v)) + 1; // lroundf: halves away from zero
      const { byte, shift } = position(j);
      out[base + byte] = (out[base + byte] as number) | ((q & 3) << shift);
    }
    const dBits = f32ToF16(amax);
    out[base + QS_BYTES] = dBits & 0xff;
    out[base + QS_BYTES + 1] = dBits >>> 8;
  }
  return out;
}

/** Raw content of TQ2_0 data: `q − 1` per element (−1, 0, +1; the unused code 3 gives 2) and d per block. */
export interface Tq2_0Unpacked {
  readonly trits: Int8Array;
  readonly scales: Float32Array;
}

/** Splits TQ2_0 data for `n` elements into per-element `q − 1` and per-block scales. */
export function unpackTq2_0(bytes: Uint8Array, n: number): Tq2_0Unpacked {
  const size = tq2_0Bytes(n);
  if (bytes.length < size) throw new RangeError(`TQ2_0 data for ${n} elements needs ${size} bytes, got ${bytes.length}`);
  const trits = new Int8Array(n);
  const scales = new Float32Array(n / QK_K);
  for (let b = 0; b < n / QK_K; b++) {
    const base = b * TQ2_0_BLOCK_BYTES;
    for (let j = 0; j < QK_K; j++) {
      const { byte, shift } = position(j);
      trits[b * QK_K + j] = (((bytes[base + byte] as number) >>> shift) & 3) - 1;
    }
    scales[b] = f16ToF32((bytes[base + QS_BYTES] as number) | ((bytes[base + QS_BYTES + 1] as number) << 8));
  }
  return { trits, scales };
}

/** Dequantizes TQ2_0 data for `n` elements to float32: `(q − 1)·d`. */
export function dequantizeTq2_0(bytes: Uint8Array, n: number): Float32Array {
  const { trits, scales } = unpackTq2_0(bytes, n);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (trits[i] as number) * (scales[Math.floor(i / QK_K)] as number);
  return out;
}
