/**
 * Bearer checks: API keys for the public /v1 API (the ARIA_API_KEYS binding), and the admin token
 * for admin endpoints (ARIA_ADMIN_TOKEN; none configured means no admin access at all).
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "./env.ts";
import { ApiError } from "./errors.ts";

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
  if (!parseApiKeys(c.env.ARIA_API_KEYS).some((k) => timingSafeEqual(k, key))) {
    throw new ApiError("invalid_api_key", "Incorrect API key provided.");
  }
  await next();
});
