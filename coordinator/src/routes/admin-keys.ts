/** /admin/api/keys and /admin/api/usage — API keys and their usage (docs/api.md, "Keys"), behind the admin token. */
import { Hono } from "hono";
import { z } from "zod";
import { requireAdmin } from "../auth.ts";
import { openDb } from "../db/records.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { createKey, isValidKeyName, listKeys, revokeKey, usageRows } from "../keys/key-store.ts";
import { textParam } from "./query-params.ts";

export const adminKeysRoute = new Hono<AppEnv>();
adminKeysRoute.use("*", requireAdmin);

const LimitSchema = z.number().int().positive().max(1_000_000_000).nullish();
const NewKeySchema = z.object({ name: z.string(), rpm: LimitSchema, tpm: LimitSchema, concurrency: LimitSchema }).strict();

adminKeysRoute.post("/keys", async (c) => {
  let body: z.infer<typeof NewKeySchema>;
  try {
    const parsed = NewKeySchema.safeParse(await c.req.json());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.join(".") || (issue.code === "unrecognized_keys" ? issue.keys[0]! : null);
      throw new ApiError("invalid_request", `Invalid key request: ${param ?? "body"}: ${issue.message}`, param);
    }
    body = parsed.data;
  } catch (err) {
    if (err instanceof ApiError) throw err;
    throw new ApiError("invalid_json", "The request body is not valid JSON.");
  }
  if (!isValidKeyName(body.name))
    throw new ApiError("invalid_request", "A key name is 1–64 letters, digits, '.', '_' or '-' (and not 'local').", "name");
  const limits = { rpm: body.rpm ?? null, tpm: body.tpm ?? null, concurrency: body.concurrency ?? null };
  const now = Date.now();
  const made = await createKey(openDb(c.env.DB), body.name, limits, now);
  if (!made) throw new ApiError("name_taken", `A key named '${body.name}' exists (or existed): choose another name.`, "name");
  return c.json({ object: "api_key", name: body.name, key: made.key, ...limits, created_at: now }, 201);
});

adminKeysRoute.get("/keys", async (c) => {
  const rows = await listKeys(openDb(c.env.DB));
  return c.json(
    {
      object: "list",
      data: rows.map((k) => ({
        object: "api_key",
        name: k.name,
        prefix: k.prefix,
        rpm: k.rpm,
        tpm: k.tpm,
        concurrency: k.concurrency,
        created_at: k.createdAt,
        last_used_at: k.lastUsedAt,
        revoked: k.revokedAt !== null,
        revoked_at: k.revokedAt,
      })),
    },
    200,
    { "cache-control": "no-store" },
  );
});

adminKeysRoute.delete("/keys/:name", async (c) => {
  const name = c.req.param("name");
  if (!(await revokeKey(openDb(c.env.DB), name, Date.now()))) throw new ApiError("not_found", `No live key named '${name}'.`, "name");
  return c.json({ object: "api_key", name, revoked: true });
});

adminKeysRoute.get("/usage", async (c) => {
  const rows = await usageRows(openDb(c.env.DB), textParam(c.req.query("key"), "key"));
  return c.json(
    {
      object: "list",
      data: rows.map((r) => ({
        key: r.keyName,
        user: r.user || null,
        day: r.day,
        requests: r.requests,
        prompt_tokens: r.promptTokens,
        completion_tokens: r.completionTokens,
      })),
    },
    200,
    { "cache-control": "no-store" },
  );
});
