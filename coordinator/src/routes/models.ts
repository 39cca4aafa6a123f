/** GET /v1/models — the models some connected agent can serve right now. */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { type AppEnv, swarmStub } from "../env.ts";

export const modelsRoute = new Hono<AppEnv>();

modelsRoute.get("/models", requireApiKey, async (c) => {
  const served = await swarmStub(c.env).listModels();
  return c.json({
    object: "list",
    data: served.map((m) => ({ id: m.id, object: "model", created: 0, owned_by: "aria", aria: { layers: m.nLayers, agents: m.agents } })),
  });
});
