/**
 * /admin/api — what the admin ledger explorer lists (docs/dashboard.md): log entries by request,
 * node, model, type and time, and signed checkpoints with their cosignatures. Behind the admin
 * token; reads D1 directly. Entry bytes, proofs and consistency come from the public /ledger API,
 * which the page verifies itself.
 */
import { Hono } from "hono";
import { requireAdmin } from "../auth.ts";
import { listCheckpoints, searchEntries } from "../dashboard/ledger-summary.ts";
import type { AppEnv } from "../env.ts";
import { intParam, limitParam, textParam } from "./query-params.ts";

export const adminRoute = new Hono<AppEnv>();
adminRoute.use("*", requireAdmin);

adminRoute.get("/entries", async (c) => {
  const q = c.req.query();
  const data = await searchEntries(c.env.DB, {
    requestId: textParam(q.request_id, "request_id"),
    node: textParam(q.node, "node"),
    model: textParam(q.model, "model"),
    type: textParam(q.type, "type"),
    from: intParam(q.from, "from"),
    to: intParam(q.to, "to"),
    before: intParam(q.before, "before"),
    limit: limitParam(q.limit),
  });
  return c.json({ object: "list", data }, 200, { "cache-control": "no-store" });
});

adminRoute.get("/checkpoints", async (c) => {
  const data = await listCheckpoints(c.env.DB, intParam(c.req.query("before"), "before"), limitParam(c.req.query("limit")));
  return c.json({ object: "list", data }, 200, { "cache-control": "no-store" });
});
