import { describe, expect, test } from "bun:test";
import { roundToF16 } from "./f16.ts";
import { dequantizeTq2_0, packTernaryTq2_0, quantizeTq2_0, tq2_0Bytes, unpackTq2_0 } from "./tq2-0.ts";

/** Small deterministic generator for test data (xorshift32). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

describe("TQ2_0", () => {
  test("layout: element c·128 + n·32 + m sits in bits 2n of qs[c·32 + m], d last", () => {
    const trits = new Int8Array(256);
    trits[0] = 1; // c0 n0 m0 -> qs[0] bits 0-1 = 2
    trits[32] = -1; // c0 n1 m0 -> qs[0] bits 2-3 = 0
    trits[97] = 1; // c0 n3 m1 -> qs[1] bits 6-7 = 2
    trits[128 + 64 + 5] = 1; // c1 n2 m5 -> qs[37] bits 4-5 = 2
    const b = packTernaryTq2_0(trits, 1);
    expect(b.length).toBe(66);
    expect(b[0]).toBe(0b01_01_00_10);
    expect(b[1]).toBe(0b10_01_01_01);
    expect(b[37]).toBe(0b01_10_01_01);
    expect(b[2]).toBe(0b01_01_01_01); // all zeros encode as code 1
    expect(b[64]).toBe(0x00); // d = 1.0 = 0x3c00, little-endian
    expect(b[65]).toBe(0x3c);
  });

  for (const n of [256, 512, 768, 2560, 6912]) {
    test(`pack/unpack round trip, ${n} elements`, () => {
      const r = rng(n);
      const trits = Int8Array.from({ length: n }, () => Math.floor(r() * 3) - 1);
      const d = 0.0123;
      const bytes = packTernaryTq2_0(trits, d);
      expect(bytes.length).toBe(tq2_0Bytes(n));
      expect(bytes.length).toBe((n / 256) * 66);
      const u = unpackTq2_0(bytes, n);
      expect(u.trits).toEqual(trits);
      for (const s of u.scales) expect(s).toBe(roundToF16(d));
      const deq = dequantizeTq2_0(bytes, n);
      for (let i = 0; i < n; i++) expect(deq[i]).toBe(Math.fround((trits[i] as number) * roundToF16(d)));
    });
  }

  test("reference quantizer: d = block max |x|, q = lroundf(x/d) + 1", () => {
    const r = rng(7);
    const n = 512;
    const x = Float32Array.from({ length: n }, () => (r() - 0.5) * 4);
    const bytes = quantizeTq2_0(x);
    const u = unpackTq2_0(bytes, n);
    for (let b = 0; b < n / 256; b++) {
      const block = x.subarray(b * 256, (b + 1) * 256);
      const amax = Math.max(...Array.from(block, Math.abs));
      expect(u.scales[b]).toBe(roundToF16(amax));
      for (let j = 0; j < 256; j++) {
        const v = Math.fround((block[j] as number) * Math.fround(1 / amax));
        const want = Math.abs(v) >= 0.5 ? Math.sign(v) : 0; // halves round away from zero
        expect(u.trits[b * 256 + j]).toBe(want);
      }
    }
    // Ternary input scaled by d quantizes back to itself.
    const trits = Int8Array.from({ length: 256 }, (_, i) => (i % 3) - 1);
    const again = unpackTq2_0(quantizeTq2_0(Array.from(trits, (t) => t * 0.25)), 256);
    expect(again.trits).toEqual(trits);
    expect(again.scales[0]).toBe(0.25);
  });

  test("all-zero block quantizes to d = 0 and zero codes", () => {
    const u = unpackTq2_0(quantizeTq2_0(new Float32Array(256)), 256);
    expect(u.scales[0]).toBe(0);
    expect(u.trits.every((t) => t === 0)).toBe(true);
  });

  test("rejects sizes that are not whole blocks and non-ternary input", () => {
    expect(() => packTernaryTq2_0(new Int8Array(100), 1)).toThrow(RangeError);
    expect(() => packTernaryTq2_0(new Int8Array(256).fill(2), 1)).toThrow(RangeError);
    expect(() => unpackTq2_0(new Uint8Array(10), 256)).toThrow(RangeError);
  });
});
