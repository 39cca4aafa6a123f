/** Reconnect delays: exponential with full jitter, capped ("decorrelated herd" avoidance). */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Delay before reconnect attempt `attempt` (0-based): uniform in [base/2, min(max, base·2^attempt)]. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  const floor = Math.min(baseMs / 2, ceiling);
  return Math.round(floor + random() * (ceiling - floor));
}
