/** GET /v1/agents/connect — agents dial out here; the WebSocket is handed to the Swarm. */
import { Hono } from "hono";
import { requireAdmin } from "../auth.ts";
import { gridIntensity } from "../energy/energy-report.ts";
import { type AppEnv, swarmStub } from "../env.ts";
import { ApiError } from "../errors.ts";

export const agents = new Hono<AppEnv>();

agents.get("/agents/connect", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "This endpoint takes a WebSocket upgrade from aria-agent.");
  }
  return swarmStub(c.env).fetch(c.req.raw);
});

/** GET /v1/agents — every node with its standing, consent and energy (admin; docs/verification.md). */
agents.get("/agents", requireAdmin, async (c) => {
  return c.json(await swarmStub(c.env).listAgents(gridIntensity(c.env)), 200, { "cache-control": "no-store" });
});

/** GET /v1/agents/coverage?model=<id or sha256> — replicas per layer; agents use it to pick a range. */
agents.get("/agents/coverage", async (c) => {
  const model = c.req.query("model");
  if (!model) throw new ApiError("invalid_request", "Missing required parameter: 'model'.", "model");
  return c.json(await swarmStub(c.env).coverage(model));
});
