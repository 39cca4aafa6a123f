/**
 * /dashboard/live — the live dashboard's WebSocket (held by the Swarm); /dashboard/snapshot — the
 * same snapshot once, as JSON. Public: nothing in them is secret (docs/dashboard.md). The page
 * itself, /dashboard, is a static asset.
 */
import { Hono } from "hono";
import { type AppEnv, swarmStub } from "../env.ts";
import { ApiError } from "../errors.ts";

export const dashboardRoute = new Hono<AppEnv>();

dashboardRoute.get("/live", async (c) => {
  if (c.req.header("upgrade")?.toLowerCase() !== "websocket") {
    throw new ApiError("upgrade_required", "This endpoint takes a WebSocket upgrade (the dashboard page opens it).");
  }
  return swarmStub(c.env).fetch(c.req.raw);
});

dashboardRoute.get("/snapshot", async (c) => {
  return c.json(await swarmStub(c.env).dashboardSnapshot(), 200, { "cache-control": "no-store" });
});
