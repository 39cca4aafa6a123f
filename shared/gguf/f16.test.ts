import { describe, expect, test } from "bun:test";
import { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, roundToF16 } from "./f16.ts";

describe("f16", () => {
  test("exact values", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.5, 0x3800],
      [65504, 0x7bff], // largest finite
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [1023 * 2 ** -24, 0x03ff], // largest subnormal
      [Number.POSITIVE_INFINITY, 0x7c00],
      [Number.NEGATIVE_INFINITY, 0xfc00],
    ];
    for (const [x, h] of cases) {
      expect(f32ToF16(x)).toBe(h);
      expect(Object.is(f16ToF32(h), x)).toBe(true);
    }
  });

  test("round to nearest, ties to even", () => {
    // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: ties to the even mantissa (1).
    expect(f32ToF16(1 + 2 ** -11)).toBe(0x3c00);
    // 1 + 3·2^-11 is halfway between 1+2^-10 (odd) and 1+2^-9 (even).
    expect(f32ToF16(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(f32ToF16(1 + 2 ** -11 + 2 ** -20)).toBe(0x3c01);
    // Overflow: 65520 is the tie between 65504 and 2^16 -> even -> Inf; just below stays finite.
    expect(f32ToF16(65520)).toBe(0x7c00);
    expect(f32ToF16(65519)).toBe(0x7bff);
    expect(f32ToF16(1e10)).toBe(0x7c00);
    // Subnormals: 2^-25 is the tie between 0 and 2^-24 -> 0; slightly more rounds up.
    expect(f32ToF16(2 ** -25)).toBe(0x0000);
    expect(f32ToF16(-(2 ** -25))).toBe(0x8000);
    expect(f32ToF16(2 ** -25 * 1.0001)).toBe(0x0001);
    expect(f32ToF16(3 * 2 ** -25)).toBe(0x0002); // tie between 1 and 2 -> 2
    expect(f32ToF16(2 ** -30)).toBe(0x0000);
    // Largest subnormal rounding up into the smallest normal.
    expect(f32ToF16(1023.5 * 2 ** -24)).toBe(0x0400);
  });

  test("NaN stays NaN", () => {
    const h = f32ToF16(Number.NaN);
    expect(h & 0x7c00).toBe(0x7c00);
    expect(h & 0x3ff).not.toBe(0);
    expect(Number.isNaN(f16ToF32(h))).toBe(true);
  });

  test("every finite f16 survives f16 -> f32 -> f16", () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue;
      expect(f32ToF16(f16ToF32(h))).toBe(h);
    }
  });

  // Cross-check against the engine's own conversion where the runtime has Float16Array.
  const F16 = (globalThis as { Float16Array?: new (n: number) => { [i: number]: number; buffer: ArrayBufferLike } }).Float16Array;
  test.skipIf(F16 === undefined)("matches Float16Array on 2^20 float32 bit patterns", () => {
    const native = new (F16 as NonNullable<typeof F16>)(1);
    const nativeBits = new Uint16Array(native.buffer);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    let s = 12345;
    for (let i = 0; i < 1 << 20; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      // Bias towards the interesting exponents: half of the samples land in f16 range.
      u[0] = i & 1 ? s : (s & 0x807fffff) | ((((s >>> 23) % 40) + 100) << 23);
      if (Number.isNaN(f[0])) continue;
      native[0] = f[0] as number;
      expect(f32ToF16(f[0] as number)).toBe(nativeBits[0] as number);
    }
  });

  test("roundToF16 is monotone on a sweep", () => {
    let prev = Number.NEGATIVE_INFINITY;
    for (let x = -70000; x <= 70000; x += 3.7) {
      const r = roundToF16(x);
      expect(r >= prev).toBe(true);
      prev = r;
    }
  });
});

describe("bf16", () => {
  test("exact values and rounding", () => {
    expect(f32ToBf16(1)).toBe(0x3f80);
    expect(f32ToBf16(-2)).toBe(0xc000);
    expect(bf16ToF32(0x3f80)).toBe(1);
    expect(f32ToBf16(Number.POSITIVE_INFINITY)).toBe(0x7f80);
    // 1 + 2^-8 is the tie between 1 and 1 + 2^-7: ties to even (1).
    expect(f32ToBf16(1 + 2 ** -8)).toBe(0x3f80);
    expect(f32ToBf16(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(f32ToBf16(1 + 2 ** -8 + 2 ** -20)).toBe(0x3f81);
    // The largest finite float32 rounds up to Inf in bf16.
    expect(f32ToBf16(3.4028234663852886e38)).toBe(0x7f80);
    expect(Number.isNaN(bf16ToF32(f32ToBf16(Number.NaN)))).toBe(true);
  });
});
