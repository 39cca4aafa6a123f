/**
 * GET /v1/status — the network right now (docs/api.md): requests in flight and queued, every
 * connected agent with its open sessions, every served model file with its layer coverage. Live:
 * read from the Swarm's memory at the time of the call.
 */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { type AppEnv, swarmStub } from "../env.ts";

export const statusRoute = new Hono<AppEnv>();

statusRoute.get("/status", requireApiKey, async (c) => {
  return c.json(await swarmStub(c.env).networkStatus(), 200, { "cache-control": "no-store" });
});
