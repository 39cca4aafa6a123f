/** GET /v1/energy — Proof of Sobriety: mJ per token by node, model and overall, from the ledger (docs/energy.md). */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { energyReport } from "../energy/energy-report.ts";
import type { AppEnv } from "../env.ts";

export const energyRoute = new Hono<AppEnv>();

/** Grid carbon intensity when none is configured, gCO₂ per kWh (a world-average order of magnitude). */
const DEFAULT_GCO2_PER_KWH = 400;

/** The configured grid carbon intensity, gCO₂ per kWh (the default when unset or not a number ≥ 0). */
export function gridIntensity(env: Env): number {
  const configured = Number(env.ARIA_GRID_GCO2_PER_KWH);
  return env.ARIA_GRID_GCO2_PER_KWH && Number.isFinite(configured) && configured >= 0 ? configured : DEFAULT_GCO2_PER_KWH;
}

energyRoute.get("/energy", requireApiKey, async (c) => {
  return c.json(await energyReport(c.env.DB, gridIntensity(c.env)), 200, { "cache-control": "no-store" });
});
