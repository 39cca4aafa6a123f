/** The coordinator Worker: mounts the routes and exports the Swarm Durable Object. */
import { Hono } from "hono";
import { cors } from "hono/cors";
import type { AppEnv } from "./env.ts";
import { handleError, handleNotFound } from "./errors.ts";
import { adminRoute } from "./routes/admin.ts";
import { adminKeysRoute } from "./routes/admin-keys.ts";
import { agents } from "./routes/agents.ts";
import { chat } from "./routes/chat.ts";
import { dashboardRoute } from "./routes/dashboard.ts";
import { energyRoute } from "./routes/energy.ts";
import { health } from "./routes/health.ts";
import { ledgerRoute } from "./routes/ledger.ts";
import { modelsRoute } from "./routes/models.ts";
import { statusRoute } from "./routes/status.ts";

export { KeyLimiter } from "./keys/key-limiter.ts";
export { Swarm } from "./swarm/swarm.ts";

const STAINLESS_HEADERS = ["arch", "lang", "os", "package-version", "runtime", "runtime-version", "retry-count", "timeout", "async"].map(
  (h) => `x-stainless-${h}`,
);

const app = new Hono<AppEnv>();
// Browsers may call the API (docs/api.md, "CORS"): any origin unless ARIA_CORS_ORIGINS lists some.
app.use("/v1/*", async (c, next) => {
  const allowed = (c.env.ARIA_CORS_ORIGINS ?? "*")
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o.length > 0);
  return cors({
    origin: allowed.length === 0 || allowed.includes("*") ? "*" : allowed,
    // The OpenAI SDKs add their x-stainless-* headers to every request.
    allowHeaders: ["authorization", "content-type", "openai-organization", "openai-project", ...STAINLESS_HEADERS],
    allowMethods: ["GET", "POST", "OPTIONS"],
    exposeHeaders: [
      "x-request-id",
      "retry-after",
      "x-ratelimit-limit-requests",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-requests",
    ],
    maxAge: 600,
  })(c, next);
});
app.route("/", health);
app.route("/v1", chat);
app.route("/v1", modelsRoute);
app.route("/v1", agents);
app.route("/v1", energyRoute);
app.route("/v1", statusRoute);
app.route("/ledger", ledgerRoute);
app.route("/dashboard", dashboardRoute);
app.route("/admin/api", adminRoute);
app.route("/admin/api", adminKeysRoute);
app.onError(handleError);
app.notFound(handleNotFound);

export default app satisfies ExportedHandler<Env>;
