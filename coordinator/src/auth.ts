/**
 * Bearer checks: API keys for the public /v1 API (the ARIA_API_KEYS binding), and the admin token
 * for admin endpoints (ARIA_ADMIN_TOKEN; none configured means no admin access at all).
 */
import { createMiddleware } from "hono/factory";
import { openDb } from "./db/records.ts";
import type { AppEnv } from "./env.ts";
import { ApiError } from "./errors.ts";
import { type CallerKey, ENV_KEY_NAME, findKey, sha256Hex } from "./keys/key-store.ts";

/** Keys looked up in D1 are remembered this long per isolate (a revocation takes effect within it). */
const KEY_CACHE_MS = 5_000;
const keyCache = new Map<string, { key: CallerKey | null; until: number }>();

/** The caller's key: one of ARIA_API_KEYS (name `local`, no limits) or a live key made by an admin. */
async function resolveKey(env: Env, presented: string): Promise<CallerKey | null> {
  if (parseApiKeys(env.ARIA_API_KEYS).some((k) => timingSafeEqual(k, presented)))
    return { name: ENV_KEY_NAME, rpm: null, tpm: null, concurrency: null };
  const hash = await sha256Hex(presented);
  const cached = keyCache.get(hash);
  if (cached && cached.until > Date.now()) return cached.key;
  const key = await findKey(openDb(env.DB), hash);
  if (keyCache.size > 10_000) keyCache.clear();
  keyCache.set(hash, { key, until: Date.now() + KEY_CACHE_MS });
  return key;
}

/** Keys from a comma-separated list; blanks ignored. */
export function parseApiKeys(list: string | undefined): string[] {
  return (list ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k.length > 0);
}

/** Compare without an early exit on the first differing byte. */
function timingSafeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ (y[i % Math.max(y.length, 1)] ?? 0);
  return diff === 0;
}

/** The bearer credential of a request, or null. */
function bearerOf(header: string | undefined): string | null {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  return match ? match[1]!.trim() : null;
}

export const requireAdmin = createMiddleware<AppEnv>(async (c, next) => {
  const token = bearerOf(c.req.header("authorization"));
  if (token === null) throw new ApiError("missing_admin_token", "Missing admin token: send 'Authorization: Bearer <admin token>'.");
  const configured = (c.env.ARIA_ADMIN_TOKEN ?? "").trim();
  if (configured.length === 0 || !timingSafeEqual(configured, token)) {
    throw new ApiError("invalid_admin_token", "This endpoint needs the coordinator's admin token.");
  }
  await next();
});

export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const key = bearerOf(c.req.header("authorization"));
  if (key === null) {
    throw new ApiError("missing_api_key", "Missing API key: send 'Authorization: Bearer <key>'.");
  }
  const caller = await resolveKey(c.env, key);
  if (!caller) throw new ApiError("invalid_api_key", "Incorrect API key provided.");
  c.set("caller", caller);
  await next();
});
