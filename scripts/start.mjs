// `npm start`: build the kernels if needed, start the coordinator (wrangler dev, local D1) and
// one agent serving the built-in model, then print how to call it. Ctrl-C stops everything.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { makeLedgerKey } from "./ledger-key.mjs";
import { ROOT, startAgent, startCoordinator, stopGroup, waitForModel } from "./local-network.mjs";

const BUILTIN_MODEL = "aria-tiny-random";

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

let values;
try {
  ({ values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      port: { type: "string", default: "8787" },
      model: { type: "string", default: BUILTIN_MODEL },
      agents: { type: "string", default: "1" },
    },
  }));
} catch (err) {
  fail(err.message);
}
const port = Number(values.port);
if (!Number.isInteger(port) || port <= 0 || port > 65535) fail(`--port must be a TCP port, got '${values.port}'`);
const agentCount = Number(values.agents);
if (!Number.isInteger(agentCount) || agentCount < 1 || agentCount > 64)
  fail(`--agents must be a number from 1 to 64, got '${values.agents}'`);

const build = spawnSync(process.execPath, [join(ROOT, "scripts", "build-kernels.mjs")], { stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

// Local state lives in .aria/: the API key, the D1/Durable Object state, the agent's node key.
const stateDir = join(ROOT, ".aria");
mkdirSync(stateDir, { recursive: true, mode: 0o700 });
const keyFile = join(stateDir, "local-api-key");
if (!existsSync(keyFile)) writeFileSync(keyFile, `aria-local-${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
const apiKey = readFileSync(keyFile, "utf8").trim();
// The admin token for GET /v1/agents (a Worker secret in production).
const adminFile = join(stateDir, "admin-token");
if (!existsSync(adminFile)) writeFileSync(adminFile, `aria-admin-${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
const adminToken = readFileSync(adminFile, "utf8").trim();
// The provenance log's signing key (a Worker secret in production) and its verifier key.
const ledgerKeyFile = join(stateDir, "ledger-key");
if (!existsSync(ledgerKeyFile)) {
  const { skey, vkey } = makeLedgerKey("aria.local/ledger");
  writeFileSync(ledgerKeyFile, `${skey}\n${vkey}\n`, { mode: 0o600 });
}
const [ledgerKey, ledgerVkey] = readFileSync(ledgerKeyFile, "utf8").trim().split("\n");

const children = [];
let stopping = false;
async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  await Promise.all(children.map((c) => stopGroup(c)));
  process.exit(code);
}
process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

const log = (prefix) => (line) => {
  if (line.trim()) console.error(`${prefix} ${line}`);
};

try {
  console.error(`starting the coordinator on 127.0.0.1:${port} …`);
  const coordinator = await startCoordinator({
    port,
    persistDir: join(stateDir, "wrangler"),
    apiKey,
    adminToken,
    ledgerKey,
    onLine: log("[coordinator]"),
  });
  children.push(coordinator.child);
  coordinator.child.on("exit", (code) => {
    if (!stopping) {
      console.error(`the coordinator exited (${code}); stopping`);
      stopAll(1);
    }
  });
  // N agents split the layers evenly (each its own node key); one agent serves the whole model.
  console.error(`starting ${agentCount === 1 ? "an agent" : `${agentCount} agents`} with model ${values.model} …`);
  for (let i = 1; i <= agentCount; i++) {
    const agent = startAgent({
      coordinator: coordinator.url,
      model: values.model,
      configDir: join(stateDir, agentCount === 1 ? "agent" : `agent-${i}`),
      extraArgs: agentCount === 1 ? [] : ["--layers", `${i}/${agentCount}`],
      onLine: log(agentCount === 1 ? "" : `[agent ${i}]`),
    });
    children.push(agent);
    agent.on("exit", (code) => {
      if (!stopping) {
        console.error(`agent ${i} exited (${code}); stopping`);
        stopAll(1);
      }
    });
  }
  await waitForModel(coordinator.url, apiKey, values.model, { timeoutMs: 120_000 });

  const base = `${coordinator.url}/v1`;
  console.log(`\nARIA is running. Paste these lines into a shell:\n`);
  console.log(`OPENAI_BASE_URL=${base}`);
  console.log(`OPENAI_API_KEY=${apiKey}`);
  console.log(`ARIA_LEDGER_VKEY=${ledgerVkey}`);
  console.log(`ARIA_ADMIN_TOKEN=${adminToken}`);
  console.log(`\nthen try:\n`);
  console.log(`curl -s "$OPENAI_BASE_URL/chat/completions" \\
  -H "Authorization: Bearer $OPENAI_API_KEY" -H "Content-Type: application/json" \\
  -d '{"model": "${values.model}", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 32}'`);
  console.log(`\nverify the provenance log (anyone can):\n`);
  console.log(`npx aria-agent ledger verify --coordinator ${coordinator.url} --vkey "$ARIA_LEDGER_VKEY"`);
  console.log(`\nwatch the network live: ${coordinator.url}/dashboard`);
  console.log(`browse and verify the log (admin token above): ${coordinator.url}/admin/ledger`);
  console.log(`\nlist the agents, their verified work and standing (admin):\n`);
  console.log(`curl -s "$OPENAI_BASE_URL/agents" -H "Authorization: Bearer $ARIA_ADMIN_TOKEN"`);
  console.log(
    `\n(${values.model === BUILTIN_MODEL ? "the built-in model has random weights, so it answers with random text; " : ""}Ctrl-C stops everything)`,
  );
} catch (err) {
  console.error(`npm start: ${err.message}`);
  await stopAll(1);
}
