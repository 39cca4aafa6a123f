/**
 * What a request asks done to the logits before a token is chosen (docs/api.md, "Parameters"):
 * `logit_bias`, then OpenAI's presence and frequency penalties over the tokens generated so far;
 * and the log-probabilities reported for `logprobs`, computed from the logits so processed
 * (before temperature, like OpenAI's).
 */
import type { SamplingParams } from "../../../shared/protocol/messages.ts";

/** Counts of each token generated so far (history included), for the penalties. */
export class TokenCounts {
  private readonly counts = new Map<number, number>();
  add(id: number): void {
    this.counts.set(id, (this.counts.get(id) ?? 0) + 1);
  }
  entries(): IterableIterator<[number, number]> {
    return this.counts.entries();
  }
}

/** Whether the params change logits at all (most requests: no copy is made). */
export function processesLogits(p: SamplingParams): boolean {
  return (p.presencePenalty ?? 0) !== 0 || (p.frequencyPenalty ?? 0) !== 0 || Object.keys(p.logitBias ?? {}).length > 0;
}

/** The logits with bias and penalties applied (a new array; the input is left as it was). */
export function processLogits(logits: Float32Array, p: SamplingParams, counts: TokenCounts): Float32Array {
  const out = new Float32Array(logits);
  for (const [key, bias] of Object.entries(p.logitBias ?? {})) {
    const id = Number(key);
    if (id < out.length) out[id] = out[id]! + bias;
  }
  const presence = p.presencePenalty ?? 0;
  const frequency = p.frequencyPenalty ?? 0;
  if (presence !== 0 || frequency !== 0) {
    for (const [id, n] of counts.entries()) if (id < out.length) out[id] = out[id]! - presence - frequency * n;
  }
  return out;
}

/** log-softmax of the chosen id and the `top` most likely ids (highest first, ties by lower id). */
export function logprobsOf(logits: Float32Array, chosen: number, top: number): { logprob: number; top: { id: number; logprob: number }[] } {
  let max = Number.NEGATIVE_INFINITY;
  for (const v of logits) if (v > max) max = v;
  let sum = 0;
  for (const v of logits) sum += Math.exp(v - max);
  const logZ = max + Math.log(sum);
  const best: { id: number; logprob: number }[] = [];
  if (top > 0) {
    // One pass keeping the `top` largest (top ≤ 20, so an insertion into a short list).
    for (let i = 0; i < logits.length; i++) {
      const v = logits[i]!;
      if (best.length === top && v <= best[top - 1]!.logprob) continue;
      let k = best.length;
      while (k > 0 && best[k - 1]!.logprob < v) k--;
      best.splice(k, 0, { id: i, logprob: v });
      if (best.length > top) best.pop();
    }
  }
  return { logprob: logits[chosen]! - logZ, top: best.map((b) => ({ id: b.id, logprob: b.logprob - logZ })) };
}
