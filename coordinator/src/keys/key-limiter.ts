/**
 * The KeyLimiter Durable Object: one per API key, enforcing its limits exactly (docs/api.md,
 * "Limits per key") — requests in the last minute, tokens in the last minute, requests at once.
 * A Durable Object runs one call at a time, so admission is exact; its state is stored, so an
 * eviction between calls forgets nothing. Concurrency slots are leases that expire, so a Worker
 * that died mid-request cannot hold a slot forever.
 */
import { DurableObject } from "cloudflare:workers";
import type { KeyLimits } from "./key-store.ts";

const WINDOW_MS = 60_000;
/** A slot not released by then is taken back (longer than any request may run). */
const LEASE_MS = 15 * 60_000;

interface State {
  /** Admission times in the window. */
  requests: number[];
  /** Tokens used, by completion time, in the window. */
  tokens: [number, number][];
  /** Open leases: id → start. */
  leases: Record<string, number>;
}

export interface Admission {
  ok: boolean;
  lease: string | null;
  /** When refused: how long until this request would be admitted. */
  retryAfterMs: number;
  requests: { limit: number | null; remaining: number | null; resetMs: number };
  tokens: { limit: number | null; remaining: number | null; resetMs: number };
}

export class KeyLimiter extends DurableObject<Env> {
  private state: State | null = null;

  private async load(now: number): Promise<State> {
    this.state ??= (await this.ctx.storage.get<State>("state")) ?? { requests: [], tokens: [], leases: {} };
    const s = this.state;
    s.requests = s.requests.filter((t) => t > now - WINDOW_MS);
    s.tokens = s.tokens.filter(([t]) => t > now - WINDOW_MS);
    for (const [id, at] of Object.entries(s.leases)) if (at < now - LEASE_MS) delete s.leases[id];
    return s;
  }

  async admit(limits: KeyLimits, now = Date.now()): Promise<Admission> {
    const s = await this.load(now);
    const used = s.tokens.reduce((n, [, k]) => n + k, 0);
    const requestsReset = s.requests.length ? s.requests[0]! + WINDOW_MS - now : 0;
    const tokensReset = s.tokens.length ? s.tokens[0]![0] + WINDOW_MS - now : 0;
    let wait = 0;
    if (limits.rpm !== null && s.requests.length >= limits.rpm) wait = Math.max(wait, requestsReset);
    if (limits.tpm !== null && used >= limits.tpm) {
      // The earliest time enough tokens have left the window to go under the limit.
      let left = used;
      for (const [t, k] of s.tokens) {
        left -= k;
        if (left < limits.tpm) {
          wait = Math.max(wait, t + WINDOW_MS - now);
          break;
        }
      }
    }
    if (limits.concurrency !== null && Object.keys(s.leases).length >= limits.concurrency) wait = Math.max(wait, 1_000);
    const admitted = wait === 0;
    let lease: string | null = null;
    if (admitted) {
      s.requests.push(now);
      lease = crypto.randomUUID();
      s.leases[lease] = now;
      await this.ctx.storage.put("state", s);
    }
    return {
      ok: admitted,
      lease,
      retryAfterMs: wait,
      requests: {
        limit: limits.rpm,
        remaining: limits.rpm === null ? null : Math.max(0, limits.rpm - s.requests.length),
        resetMs: s.requests.length ? s.requests[0]! + WINDOW_MS - now : 0,
      },
      tokens: { limit: limits.tpm, remaining: limits.tpm === null ? null : Math.max(0, limits.tpm - used), resetMs: tokensReset },
    };
  }

  /** The request is over: free its slot and count its tokens. */
  async finish(lease: string, tokens: number, now = Date.now()): Promise<void> {
    const s = await this.load(now);
    delete s.leases[lease];
    if (tokens > 0) s.tokens.push([now, tokens]);
    await this.ctx.storage.put("state", s);
  }
}

/** OpenAI's duration format for reset headers, e.g. "1s", "6m0s". */
function duration(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

/** The x-ratelimit-* headers (and Retry-After when refused) for an admission. */
export function rateLimitHeaders(a: Admission): Record<string, string> {
  const h: Record<string, string> = {};
  if (a.requests.limit !== null) {
    h["x-ratelimit-limit-requests"] = String(a.requests.limit);
    h["x-ratelimit-remaining-requests"] = String(a.requests.remaining);
    h["x-ratelimit-reset-requests"] = duration(a.requests.resetMs);
  }
  if (a.tokens.limit !== null) {
    h["x-ratelimit-limit-tokens"] = String(a.tokens.limit);
    h["x-ratelimit-remaining-tokens"] = String(a.tokens.remaining);
    h["x-ratelimit-reset-tokens"] = duration(a.tokens.resetMs);
  }
  if (!a.ok) h["retry-after"] = String(Math.max(1, Math.ceil(a.retryAfterMs / 1000)));
  return h;
}
