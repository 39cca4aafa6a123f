import { describe, expect, test } from "bun:test";
import { logprobsOf, processesLogits, processLogits, TokenCounts } from "./logit-processing.ts";

const base = { maxTokens: 8, temperature: 0, topP: 1, stop: [] };

describe("logit processing", () => {
  test("logit_bias adds to the named ids, ignoring ids past the vocabulary; the input is untouched", () => {
    const logits = new Float32Array([1, 2, 3, 4]);
    const out = processLogits(logits, { ...base, logitBias: { "0": 10, "3": -100, "99": 5 } }, new TokenCounts());
    expect([...out]).toEqual([11, 2, 3, -96]);
    expect([...logits]).toEqual([1, 2, 3, 4]);
    expect(processesLogits(base)).toBe(false);
    expect(processesLogits({ ...base, presencePenalty: 0, frequencyPenalty: 0, logitBias: {} })).toBe(false);
  });

  test("presence and frequency penalties follow OpenAI's formula over the tokens generated so far", () => {
    const counts = new TokenCounts();
    for (const id of [1, 1, 1, 2]) counts.add(id);
    const out = processLogits(new Float32Array([0, 0, 0, 0]), { ...base, presencePenalty: 0.5, frequencyPenalty: 0.25 }, counts);
    expect([...out]).toEqual([0, -(0.5 + 0.25 * 3), -(0.5 + 0.25), 0]);
  });

  test("logprobs: a normalized log-softmax; the top list is the most likely ids, highest first, ties by lower id", () => {
    const logits = new Float32Array([0.5, 3, 1, 3, -2]);
    const { logprob, top } = logprobsOf(logits, 2, 3);
    const z = Math.log([...logits].reduce((s, v) => s + Math.exp(v), 0));
    expect(logprob).toBeCloseTo(1 - z, 6);
    expect(top.map((t) => t.id)).toEqual([1, 3, 2]);
    expect(top[0]!.logprob).toBeCloseTo(3 - z, 6);
    const total = [...logits].reduce((s, _, i) => s + Math.exp(logprobsOf(logits, i, 0).logprob), 0);
    expect(total).toBeCloseTo(1, 6);
    expect(logprobsOf(logits, 0, 0).top).toEqual([]);
  });
});
