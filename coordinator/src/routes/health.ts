/** GET /health — liveness, no auth. */
import { Hono } from "hono";
import type { AppEnv } from "../env.ts";

export const health = new Hono<AppEnv>();

health.get("/health", (c) => c.json({ status: "ok" }));
