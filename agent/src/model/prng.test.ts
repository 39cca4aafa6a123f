import { describe, expect, test } from "bun:test";
import { Prng, seedFromString } from "./prng.ts";

describe("Prng", () => {
  test("same seed, same sequence; different seeds differ", () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const c = new Prng(43);
    const sa = Array.from({ length: 100 }, () => a.nextU32());
    expect(Array.from({ length: 100 }, () => b.nextU32())).toEqual(sa);
    expect(Array.from({ length: 100 }, () => c.nextU32())).not.toEqual(sa);
  });

  test("pinned values (the built-in model's bytes depend on them)", () => {
    // xoshiro128** from the state {1, 2, 3, 4} gives the published sequence.
    const known = new Prng(0);
    (known as unknown as { s: Uint32Array }).s.set([1, 2, 3, 4]);
    expect([1, 2, 3, 4, 5].map(() => known.nextU32())).toEqual([11520, 0, 5927040, 70819200, 2031721883]);
    const r = new Prng(1);
    expect([r.nextU32(), r.nextU32(), r.nextU32()]).toEqual([2442144158, 3238099751, 3819917871]);
    expect(seedFromString("")).toBe(0x811c9dc5);
    expect(seedFromString("a")).toBe(0xe40c292c);
  });

  test("distributions look right", () => {
    const r = new Prng(7);
    const counts = [0, 0, 0];
    for (let i = 0; i < 30000; i++) {
      const k = r.nextInt(3);
      counts[k] = (counts[k] as number) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(400);
    let sum = 0;
    let sq = 0;
    const n = 50000;
    for (let i = 0; i < n; i++) {
      const x = r.nextNormalish();
      sum += x;
      sq += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(0.03);
    expect(Math.abs(sq / n - 1)).toBeLessThan(0.03);
    for (let i = 0; i < 1000; i++) {
      const f = r.nextFloat();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });
});
