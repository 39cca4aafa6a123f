import { describe, expect, test } from "vitest";
import { checkRateOf, firstSampledStep, missProbability, P_FLOOR, reputationOf, type Standing } from "./check-rate.ts";

const fresh: Standing = { verifiedSteps: 0, disputes: 0, disputeOpen: false, excludedAt: null };

describe("check rate", () => {
  test("a new key has every step checked; trust lowers the rate to the floor and no further", () => {
    expect(checkRateOf(fresh)).toBe(1);
    expect(checkRateOf({ ...fresh, verifiedSteps: 100 })).toBeCloseTo(0.5, 12);
    expect(checkRateOf({ ...fresh, verifiedSteps: 900 })).toBeCloseTo(0.1, 12);
    expect(checkRateOf({ ...fresh, verifiedSteps: 1e9 })).toBe(P_FLOOR);
  });

  test("a dispute lowers reputation and, while open, has every session checked", () => {
    const trusted = { ...fresh, verifiedSteps: 900 };
    expect(reputationOf({ ...trusted, disputes: 1 })).toBeCloseTo(0.45, 12);
    expect(checkRateOf({ ...trusted, disputes: 1, disputeOpen: true })).toBe(1);
    expect(checkRateOf({ ...trusted, disputes: 1 })).toBeCloseTo(0.55, 12);
    expect(reputationOf({ ...trusted, excludedAt: 1 })).toBe(0);
  });

  test("the documented target: at the floor a node wrong on every step is sampled within 44 steps with probability ≥ 99 %", () => {
    expect(missProbability(P_FLOOR, 44)).toBeLessThanOrEqual(0.01);
    expect(missProbability(P_FLOOR, 43)).toBeGreaterThan(0.01);
  });

  test("first sampled step: geometric with the given rate", () => {
    expect(firstSampledStep(1, 0.3)).toBe(0);
    expect(firstSampledStep(0, 0.3)).toBe(Number.POSITIVE_INFINITY);
    expect(firstSampledStep(0.5, 1)).toBe(0);
    expect(firstSampledStep(0.5, 0.5)).toBe(1);
    // P(K ≥ k) = (1 − p)^k: over an even grid of uniforms the fraction with K ≥ 10 at p = 0.1 is 0.9^10.
    const n = 100_000;
    let atLeast10 = 0;
    for (let i = 1; i <= n; i++) if (firstSampledStep(0.1, i / n) >= 10) atLeast10++;
    expect(atLeast10 / n).toBeCloseTo(0.9 ** 10, 3);
  });
});
