/**
 * Next-token choice from logits. Temperature 0 is greedy (ties go to the lowest id, so it is
 * deterministic); otherwise softmax at the temperature, nucleus (top-p) cut, then one draw from
 * the caller's random source (seeded when the request has a seed).
 *
 * Tokens more than CANDIDATE_NATS below the best (probability ratio < e^-30 ≈ 1e-13) are left
 * out before sorting: with a 128k vocabulary that turns a full sort per token into a small one,
 * and it is part of the definition, so every agent makes the same choice.
 */
const CANDIDATE_NATS = 30;
export interface SamplingOptions {
  temperature: number;
  topP: number;
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
  return best;
}

export function sampleToken(logits: Float32Array, { temperature, topP }: SamplingOptions, random: () => number): number {
  if (temperature <= 0) return argmax(logits);
  const max = logits[argmax(logits)]!;
  const ids: number[] = [];
  const probs: number[] = [];
  let total = 0;
  for (let i = 0; i < logits.length; i++) {
    const z = (logits[i]! - max) / temperature;
    if (z < -CANDIDATE_NATS) continue;
    const p = Math.exp(z);
    if (p > 0) {
      ids.push(i);
      probs.push(p);
      total += p;
    }
  }
  const order = ids.map((_, k) => k).sort((a, b) => probs[b]! - probs[a]! || ids[a]! - ids[b]!);
  // Keep the smallest prefix whose mass reaches top_p (always at least one token).
  let kept = 0;
  let mass = 0;
  while (kept < order.length && (kept === 0 || mass < topP * total)) mass += probs[order[kept++]!]!;
  let r = random() * mass;
  for (let k = 0; k < kept; k++) {
    r -= probs[order[k]!]!;
    if (r <= 0) return ids[order[k]!]!;
  }
  return ids[order[kept - 1]!]!;
}
