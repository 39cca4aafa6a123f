import { describe, expect, test } from "bun:test";
import { argmax, sampleToken } from "./sampler.ts";

describe("sampler", () => {
  test("temperature 0 is argmax with ties to the lowest id", () => {
    expect(argmax(new Float32Array([1, 5, 5, 2]))).toBe(1);
    expect(sampleToken(new Float32Array([0, 3, 1]), { temperature: 0, topP: 1 }, () => 0.99)).toBe(1);
  });

  test("top_p keeps only the nucleus", () => {
    const logits = new Float32Array([10, 0, 0, 0]);
    for (const r of [0, 0.5, 0.999]) expect(sampleToken(logits, { temperature: 1, topP: 0.5 }, () => r)).toBe(0);
  });

  test("draws follow the distribution", () => {
    const logits = new Float32Array([Math.log(1), Math.log(3)]);
    // Sorted by probability: id 1 holds [0, 0.75) of the mass, id 0 the rest.
    expect(sampleToken(logits, { temperature: 1, topP: 1 }, () => 0.7)).toBe(1);
    expect(sampleToken(logits, { temperature: 1, topP: 1 }, () => 0.8)).toBe(0);
  });
});
