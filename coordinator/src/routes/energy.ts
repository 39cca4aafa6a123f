/** GET /v1/energy — Proof of Sobriety: mJ per token by node, model and overall, from the ledger (docs/energy.md). */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { energyReport } from "../energy/energy-report.ts";
import type { AppEnv } from "../env.ts";

export const energyRoute = new Hono<AppEnv>();

/** Grid carbon intensity when none is configured, gCO₂ per kWh (a world-average order of magnitude). */
const DEFAULT_GCO2_PER_KWH = 400;

energyRoute.get("/energy", requireApiKey, async (c) => {
  const configured = Number(c.env.ARIA_GRID_GCO2_PER_KWH);
  const intensity = c.env.ARIA_GRID_GCO2_PER_KWH && Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_GCO2_PER_KWH;
  return c.json(await energyReport(c.env.DB, intensity), 200, { "cache-control": "no-store" });
});
