/**
 * A small deterministic PRNG (xoshiro128**, seeded through splitmix32). Only 32-bit integer
 * arithmetic and exactly rounded float operations are used, so every engine on every platform
 * produces the same sequence — the built-in model's bytes depend on it.
 */

/** FNV-1a over the UTF-8 bytes of `s`: a stable 32-bit seed from a name. */
export function seedFromString(s: string): number {
  let h = 0x811c9dc5;
  for (const b of new TextEncoder().encode(s)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/**
 * Seeded generator.
 * @example const r = new Prng(seedFromString("blk.0.attn_q.weight")); r.nextInt(3) - 1
 */
export class Prng {
  private readonly s = new Uint32Array(4);

  constructor(seed: number) {
    // splitmix32 expands the seed so that nearby seeds give unrelated states (and never all-zero).
    let x = seed >>> 0;
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1; // xoshiro's one forbidden state
  }

  /** Uniform 32-bit unsigned integer. */
  nextU32(): number {
    const s = this.s;
    const s1 = s[1] as number;
    const rotl = (v: number, k: number) => ((v << k) | (v >>> (32 - k))) >>> 0;
    const result = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    s[2] = (s[2] as number) ^ (s[0] as number);
    s[3] = (s[3] as number) ^ s1;
    s[1] = s1 ^ (s[2] as number);
    s[0] = (s[0] as number) ^ (s[3] as number);
    s[2] = (s[2] as number) ^ t;
    s[3] = rotl(s[3] as number, 11);
    return result;
  }

  /** Uniform float in [0, 1) with 32 random bits (exact: an integer divided by 2^32). */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), without modulo bias (rejection sampling). */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0 || n > 4294967296) throw new RangeError(`nextInt needs 1 <= n <= 2^32, got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    for (;;) {
      const v = this.nextU32();
      if (v < limit) return v % n;
    }
  }

  /**
   * Approximately standard normal: Irwin–Hall sum of 4 uniforms, centred and scaled to unit
   * variance (range ±2√3). Avoids Math.log/cos, whose last bits differ between engines.
   */
  nextNormalish(): number {
    const sum = this.nextFloat() + this.nextFloat() + this.nextFloat() + this.nextFloat();
    return (sum - 2) * Math.sqrt(3);
  }
}
