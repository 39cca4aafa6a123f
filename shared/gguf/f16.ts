/**
 * IEEE binary16 and bfloat16 conversions. Inputs are first rounded to float32 (Math.fround), as a
 * C `float` argument would be; every conversion to a narrower type rounds to nearest, ties to even,
 * and uses only exact integer arithmetic, so results are identical on every engine.
 */

const scratchF32 = new Float32Array(1);
const scratchU32 = new Uint32Array(scratchF32.buffer);

/** The bit pattern of `x` rounded to float32. */
export function f32Bits(x: number): number {
  scratchF32[0] = x;
  return scratchU32[0] as number;
}

/** The float32 whose bit pattern is `bits` (as a JS number). */
export function f32FromBits(bits: number): number {
  scratchU32[0] = bits >>> 0;
  return scratchF32[0] as number;
}

/**
 * float32 -> binary16 bits, round to nearest even; overflow gives ±Inf, NaN stays a quiet NaN.
 * @example f32ToF16(1) === 0x3c00; f32ToF16(65520) === 0x7c00
 */
export function f32ToF16(x: number): number {
  const bits = f32Bits(x);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // re-biased exponent
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    // Subnormal half (or zero): value = m * 2^-24 with m = full mantissa >> (14 - e).
    const shift = 14 - e;
    if (shift > 24) return sign; // below half of the smallest subnormal: rounds to zero
    const full = mant | 0x800000;
    let h = full >>> shift;
    const rem = full & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h += 1;
    return sign | h; // a carry into bit 10 correctly yields the smallest normal
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h += 1; // a carry may reach Inf: correct
  return sign | h;
}

/**
 * binary16 bits -> its exact value.
 * @example f16ToF32(0x3c00) === 1
 */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Number.POSITIVE_INFINITY : Number.NaN;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

/** Rounds `x` to the nearest binary16 value (returned as a number). */
export function roundToF16(x: number): number {
  return f16ToF32(f32ToF16(x));
}

/**
 * float32 -> bfloat16 bits, round to nearest even; NaN stays a quiet NaN.
 * @example f32ToBf16(1) === 0x3f80
 */
export function f32ToBf16(x: number): number {
  const bits = f32Bits(x);
  if ((bits & 0x7fffffff) > 0x7f800000) return ((bits >>> 16) | 0x40) & 0xffff;
  // Non-NaN bits are at most 0xff800000, so adding at most 0x8000 stays below 2^32.
  return Math.floor((bits + 0x7fff + ((bits >>> 16) & 1)) / 0x10000) & 0xffff;
}

/** bfloat16 bits -> its exact value. */
export function bf16ToF32(b: number): number {
  return f32FromBits((b & 0xffff) << 16);
}
