/** GET /v1/models and GET /v1/models/{id} — the models some connected agent can serve right now. */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { type AppEnv, swarmStub } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { ServedModel } from "../swarm/swarm.ts";

export const modelsRoute = new Hono<AppEnv>();

const modelObject = (m: ServedModel) => ({
  id: m.id,
  object: "model" as const,
  created: 0,
  owned_by: "aria",
  aria: { layers: m.nLayers, agents: m.agents },
});

modelsRoute.get("/models", requireApiKey, async (c) => {
  const served = await swarmStub(c.env).listModels();
  return c.json({ object: "list", data: served.map(modelObject) });
});

modelsRoute.get("/models/:id{.+}", requireApiKey, async (c) => {
  const id = c.req.param("id");
  const model = (await swarmStub(c.env).listModels()).find((m) => m.id === id);
  if (!model) throw new ApiError("model_not_found", `The model '${id}' does not exist or no agent serves it right now.`, "model");
  return c.json(modelObject(model));
});
