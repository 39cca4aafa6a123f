// Starting a local ARIA network from Node: the coordinator under `wrangler dev` (workerd, local
// D1 with the committed migrations applied) and agents as Bun processes. Used by `npm start`
// and by the end-to-end tests, so both run exactly the same pieces.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const BIN = join(ROOT, "node_modules", ".bin");
const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };

/** A free TCP port on the loopback interface. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Poll `check` until it returns a truthy value or the deadline passes. */
export async function waitFor(what, check, { timeoutMs = 60_000, intervalMs = 200, process: child } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`${what}: the process exited with code ${child.exitCode}`);
    try {
      const value = await check();
      if (value) return value;
    } catch {
      // not ready yet
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A child in its own process group, so stopping it also stops what it spawned (workerd). */
function spawnGroup(command, args, { env = {}, onLine } = {}) {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      buffered += chunk;
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        onLine?.(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf("\n");
      }
    });
  }
  return child;
}

/** Stop a process group: SIGTERM, then SIGKILL after a grace period. Resolves when it exited. */
export function stopGroup(child, graceMs = 5_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => signalGroup(child, "SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      signalGroup(child, "SIGKILL"); // leftovers in the group, if any
      resolve();
    });
    signalGroup(child, "SIGTERM");
  });
}

export function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

/** Apply the committed D1 migrations to the local database in `persistDir`. */
export function applyMigrations(persistDir) {
  mkdirSync(persistDir, { recursive: true });
  const result = spawnSync(join(BIN, "wrangler"), ["d1", "migrations", "apply", "aria", "--local", "--persist-to", persistDir], {
    cwd: ROOT,
    env: { ...process.env, ...WRANGLER_ENV, CI: "true" },
    encoding: "utf8",
  });
  if (result.status !== 0) throw new Error(`applying D1 migrations failed:\n${result.stdout}\n${result.stderr}`);
}

/**
 * Start the coordinator under wrangler dev on 127.0.0.1:port; resolves once /health answers.
 * Returns { url, child }.
 */
export async function startCoordinator({ port, persistDir, apiKey, ledgerKey, adminToken, onLine, timeoutMs = 90_000 }) {
  applyMigrations(persistDir);
  const inspectorPort = await freePort();
  const child = spawnGroup(
    join(BIN, "wrangler"),
    [
      "dev",
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(inspectorPort),
      "--persist-to",
      persistDir,
      "--var",
      `ARIA_API_KEYS:${apiKey}`,
      ...(ledgerKey ? ["--var", `ARIA_LEDGER_KEY:${ledgerKey}`] : []),
      ...(adminToken ? ["--var", `ARIA_ADMIN_TOKEN:${adminToken}`] : []),
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    { env: WRANGLER_ENV, onLine },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor("the coordinator", async () => (await fetch(`${url}/health`)).ok, { timeoutMs, process: child });
  return { url, child };
}

/**
 * Start one agent (`aria-agent start`) as a Bun process. Returns the child. `entry`: the agent's
 * command file (default the checkout's; an installed package's bin to test that).
 */
export function startAgent({ coordinator, model, configDir, cacheDir, extraArgs = [], env = {}, onLine, entry }) {
  const args = [
    entry ?? join(ROOT, "agent", "bin", "aria-agent.ts"),
    "start",
    "--coordinator",
    coordinator,
    "--model",
    model,
    "--config-dir",
    configDir,
  ];
  if (cacheDir) args.push("--cache-dir", cacheDir);
  return spawnGroup(join(BIN, "bun"), [...args, ...extraArgs], { env, onLine });
}

/** Resolves once /v1/models lists `modelId`. */
export function waitForModel(url, apiKey, modelId, { timeoutMs = 60_000, process: child } = {}) {
  return waitFor(
    `model ${modelId} to be served`,
    async () => {
      const res = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${apiKey}` } });
      if (!res.ok) return false;
      const body = await res.json();
      return body.data.some((m) => m.id === modelId);
    },
    { timeoutMs, process: child },
  );
}
