/** The coordinator Worker: mounts the routes and exports the Swarm Durable Object. */
import { Hono } from "hono";
import type { AppEnv } from "./env.ts";
import { handleError, handleNotFound } from "./errors.ts";
import { adminRoute } from "./routes/admin.ts";
import { agents } from "./routes/agents.ts";
import { chat } from "./routes/chat.ts";
import { dashboardRoute } from "./routes/dashboard.ts";
import { energyRoute } from "./routes/energy.ts";
import { health } from "./routes/health.ts";
import { ledgerRoute } from "./routes/ledger.ts";
import { modelsRoute } from "./routes/models.ts";

export { Swarm } from "./swarm/swarm.ts";

const app = new Hono<AppEnv>();
app.route("/", health);
app.route("/v1", chat);
app.route("/v1", modelsRoute);
app.route("/v1", agents);
app.route("/v1", energyRoute);
app.route("/ledger", ledgerRoute);
app.route("/dashboard", dashboardRoute);
app.route("/admin/api", adminRoute);
app.onError(handleError);
app.notFound(handleNotFound);

export default app satisfies ExportedHandler<Env>;
