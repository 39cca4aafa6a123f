/**
 * `aria-agent status [--json]`: what this machine's agent is doing (docs/dashboard.md) — from the
 * status file the running agent keeps, with its standing (reputation, credits, verified steps)
 * from the coordinator's public dashboard snapshot.
 */
import { defaultConfigDir } from "../../identity/node-key.ts";
import { type AgentStatus, readStatus, STATUS_EVERY_MS } from "../../serve/status-file.ts";
import { CLIError } from "../cli-error.ts";
import { parseOptions } from "../parse-options.ts";

const USAGE = `usage: aria-agent status [--json] [--config-dir DIR]
  what the agent running with this config dir is doing: model, layers, sessions, tokens served,
  energy, consent in force, and its reputation and credits as the coordinator sees them`;

interface Standing {
  reputation: number;
  credits: number;
  verified_steps: number;
  excluded: boolean;
}

/** The node's standing from the coordinator's public snapshot, or why it could not be read. */
async function standingOf(status: AgentStatus): Promise<Standing | { unavailable: string }> {
  try {
    const url = new URL(status.coordinator.replace(/^ws/, "http"));
    url.pathname = "/dashboard/snapshot";
    url.search = "";
    const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!res.ok) return { unavailable: `the coordinator answered ${res.status}` };
    const snapshot = (await res.json()) as { nodes: (Standing & { node_id: string })[]; excluded: { node_id: string }[] };
    const node = snapshot.nodes.find((n) => n.node_id === status.node_id);
    if (node) return { reputation: node.reputation, credits: node.credits, verified_steps: node.verified_steps, excluded: node.excluded };
    if (snapshot.excluded.some((e) => e.node_id === status.node_id))
      return { reputation: 0, credits: 0, verified_steps: 0, excluded: true };
    return { unavailable: "the coordinator does not list this node as connected" };
  } catch (err) {
    return { unavailable: `the coordinator could not be reached (${(err as Error).message})` };
  }
}

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args, {
    json: { type: "boolean" },
    "config-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const configDir = opts["config-dir"] ?? defaultConfigDir(process.env);
  let status: AgentStatus | null;
  try {
    status = readStatus(configDir);
  } catch (err) {
    throw new CLIError((err as Error).message, "bad_status");
  }
  if (!status) throw new CLIError(`no agent has run with config dir ${configDir} (start one with: aria-agent start)`, "no_agent");
  const running = Date.now() - status.updated_at < 3 * STATUS_EVERY_MS && processAlive(status.pid);
  const standing = running ? await standingOf(status) : { unavailable: "the agent is not running" };
  if (opts.json) {
    console.log(JSON.stringify({ running, ...status, standing }, null, 2));
    return;
  }
  const m = status.model;
  const lines = [
    `agent ${status.node_id.slice(0, 16)}… ${running ? (status.connected ? "running, connected" : "running, not connected") : "not running"} (version ${status.version})`,
    `coordinator  ${status.coordinator}`,
    `model        ${m.id} layers ${m.layers[0]}-${m.layers[1] - 1} of ${m.n_layers} (sha256 ${m.sha256.slice(0, 12)}…)`,
    `sessions     ${status.sessions} open of ${status.max_sessions}; ${status.served.sessions} served since start`,
    `tokens       ${status.served.tokens} computed since start`,
    `energy       ${(status.served.energy_mj / 1000).toFixed(3)} J (${status.served.energy_method}), ${status.served.cpu_ms.toFixed(0)} ms CPU`,
    `consent      ${status.consent}`,
    `memory       ${(status.model_bytes / 2 ** 20).toFixed(1)} MB of model weights held`,
    "unavailable" in standing
      ? `standing     unknown: ${standing.unavailable}`
      : `standing     reputation ${standing.reputation.toFixed(2)}, ${standing.credits} credits, ${standing.verified_steps} verified steps${standing.excluded ? " — EXCLUDED" : ""}`,
  ];
  console.log(lines.join("\n"));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
