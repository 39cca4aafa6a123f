/** Bearer API-key check for the public /v1 API. Keys come from the ARIA_API_KEYS binding. */
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

export const requireApiKey = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(.+)$/i.exec(header);
  if (!match) {
    throw new ApiError("missing_api_key", "Missing API key: send 'Authorization: Bearer <key>'.");
  }
  const key = match[1]!.trim();
  if (!parseApiKeys(c.env.ARIA_API_KEYS).some((k) => timingSafeEqual(k, key))) {
    throw new ApiError("invalid_api_key", "Incorrect API key provided.");
  }
  await next();
});
