/**
 * A request's passage through its key's limits (docs/api.md, "Limits per key"): admitted (with
 * the rate-limit headers to send) or refused with a 429; and, when it is over, its slot freed,
 * its tokens counted and its usage recorded. Keys without limits skip the limiter.
 */
import { openDb } from "../db/records.ts";
import { ApiError } from "../errors.ts";
import { type Admission, rateLimitHeaders } from "./key-limiter.ts";
import { type CallerKey, recordUsage } from "./key-store.ts";

export interface Admitted {
  headers: Record<string, string>;
  /** Call once when the request is over (usage null when it produced nothing to bill). */
  settle(usage: { promptTokens: number; completionTokens: number } | null, user: string | null): Promise<void>;
}

export async function admit(env: Env, caller: CallerKey): Promise<Admitted> {
  const limited = caller.rpm !== null || caller.tpm !== null || caller.concurrency !== null;
  const limiter = limited ? env.KEY_LIMITER.get(env.KEY_LIMITER.idFromName(caller.name)) : null;
  let admission: Admission | null = null;
  if (limiter) {
    admission = await limiter.admit({ rpm: caller.rpm, tpm: caller.tpm, concurrency: caller.concurrency });
    if (!admission.ok) {
      throw new ApiError(
        "rate_limit_exceeded",
        `Rate limit reached for key '${caller.name}'; retry after ${Math.ceil(admission.retryAfterMs / 1000)} s.`,
        null,
        rateLimitHeaders(admission),
      );
    }
  }
  let settled = false;
  return {
    headers: admission ? rateLimitHeaders(admission) : {},
    async settle(usage, user) {
      if (settled) return;
      settled = true;
      const tokens = usage ? usage.promptTokens + usage.completionTokens : 0;
      const jobs: Promise<unknown>[] = [];
      if (limiter && admission?.lease) jobs.push(limiter.finish(admission.lease, tokens));
      if (usage) jobs.push(recordUsage(openDb(env.DB), caller.name, user, usage.promptTokens, usage.completionTokens, Date.now()));
      const results = await Promise.allSettled(jobs);
      for (const r of results) if (r.status === "rejected") console.error("keys: settling a request failed", r.reason);
    },
  };
}
