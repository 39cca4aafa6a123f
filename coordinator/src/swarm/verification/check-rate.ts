/**
 * How often a node's steps are re-executed (docs/verification.md, "Sampling"): pure arithmetic,
 * so the documented figures are the ones tests check.
 */

/** The lowest check rate any node ever has: the 99 %-within-100-steps target rests on it. */
export const P_FLOOR = 0.1;
/** Verified steps at which a clean node's reputation reaches one half. */
export const TRUST_STEPS = 100;

/** What the rate depends on. */
export interface Standing {
  verifiedSteps: number;
  disputes: number;
  disputeOpen: boolean;
  excludedAt: number | null;
}

/** In [0, 1): grows with verified steps, halves per dispute, 0 once excluded. */
export function reputationOf(s: Standing): number {
  if (s.excludedAt !== null) return 0;
  return (s.verifiedSteps / (s.verifiedSteps + TRUST_STEPS)) * 0.5 ** s.disputes;
}

/** Probability that any one of the node's steps is sampled for re-execution. */
export function checkRateOf(s: Standing): number {
  if (s.disputeOpen) return 1;
  return Math.max(P_FLOOR, 1 - reputationOf(s));
}

/**
 * The first sampled step of a session when each step is sampled independently with probability
 * p: geometric on {0, 1, …}. `uniform` is in (0, 1].
 */
export function firstSampledStep(p: number, uniform: number): number {
  if (p >= 1) return 0;
  if (p <= 0) return Number.POSITIVE_INFINITY;
  // log(1) = -0 for u = 1: + 0 makes it a plain 0.
  return Math.floor(Math.log(uniform) / Math.log(1 - p)) + 0;
}

/** A uniform draw in (0, 1] from the platform's CSPRNG (a node must not predict its checks). */
export function secureUniform(): number {
  const [x] = crypto.getRandomValues(new Uint32Array(1));
  return (x! + 1) / 2 ** 32;
}

/** Chance that none of `steps` steps is sampled at rate p. */
export function missProbability(p: number, steps: number): number {
  return (1 - p) ** steps;
}
