/** GET /v1/energy — Proof of Sobriety: mJ per token by node, model and overall, from the ledger (docs/energy.md). */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { energyReport, gridIntensity } from "../energy/energy-report.ts";
import type { AppEnv } from "../env.ts";

export const energyRoute = new Hono<AppEnv>();

energyRoute.get("/energy", requireApiKey, async (c) => {
  return c.json(await energyReport(c.env.DB, gridIntensity(c.env)), 200, { "cache-control": "no-store" });
});
