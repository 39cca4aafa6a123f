/** `aria-agent start`: load a model, dial the coordinator, serve completions until stopped. */

import { Agent, type LayerChoice } from "../../serve/agent.ts";
import { CLIError } from "../cli-error.ts";
import { headOption, parseOptions, positiveInt } from "../parse-options.ts";

const USAGE = `usage: aria-agent start --coordinator <url> --model <path|id> [options]
  serve a model's layers to a coordinator until stopped (SIGTERM/SIGINT finish open work first)
options:
  --layers a-b | i/N | all   which layers (default: what the network misses, as much as fits in RAM)
  --threads T                compute threads (default: the consent's cpu_percent of the cores)
  --head q8_0|file           output head representation (default q8_0)
  --max-sessions N           concurrent sessions (default 4, capped by the consent)
  --cache-dir DIR            where downloaded and built-in models are kept
  --config-dir DIR           node key, consent, witness state, status.json
  --ledger-vkey VKEY         the coordinator's log key to trust (default: pinned on first sight)
  --consent FILE             the owner's consent contract (default <config dir>/consent.json)`;

export async function run(args: string[]): Promise<void> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(USAGE);
    return;
  }
  const opts = parseOptions(args, {
    coordinator: { type: "string" },
    model: { type: "string" },
    layers: { type: "string" },
    threads: { type: "string" },
    head: { type: "string" },
    "max-sessions": { type: "string" },
    "cache-dir": { type: "string" },
    "config-dir": { type: "string" },
    "ledger-vkey": { type: "string" },
    consent: { type: "string" },
  });
  if (!opts.coordinator) throw new CLIError("--coordinator <url> is required", "bad_option", 2);
  if (!opts.model) throw new CLIError("--model <path|id> is required (the built-in model is aria-tiny-random)", "bad_option", 2);
  const agent = await Agent.create({
    coordinator: opts.coordinator,
    model: opts.model,
    layers: parseLayers(opts.layers),
    threads: opts.threads === undefined ? undefined : positiveInt(opts.threads, "threads", 1),
    head: headOption(opts.head),
    maxSessions: positiveInt(opts["max-sessions"], "max-sessions", 4),
    cacheDir: opts["cache-dir"],
    configDir: opts["config-dir"],
    ledgerVkey: opts["ledger-vkey"],
    consentFile: opts.consent,
    env: process.env,
    log: (line) => console.error(`[aria-agent] ${line}`),
  });
  agent.start();
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => {
      agent.log("SIGINT: stopping");
      agent.stop();
      resolve();
    });
    process.once("SIGTERM", () => {
      agent.log("SIGTERM: draining (finishing open sessions, accepting no new ones)");
      void agent.drain().then(resolve);
    });
  });
}

/**
 * "a-b" (inclusive, as users count layers), a single layer "a", "i/N": the i-th (1-based) of N
 * even parts of the model, or "all". Absent: chosen from what the network is missing.
 */
export function parseLayers(value: string | undefined): LayerChoice {
  if (value === undefined) return "auto";
  if (value === "all") return "all";
  const part = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (part) {
    const index = Number(part[1]);
    const parts = Number(part[2]);
    if (index < 1 || index > parts) throw new CLIError(`--layers ${value}: the part must be between 1 and ${parts}`, "bad_option", 2);
    return { part: index, of: parts };
  }
  const m = /^(\d+)(?:-(\d+))?$/.exec(value.trim());
  const first = m ? Number(m[1]) : Number.NaN;
  const last = m?.[2] !== undefined ? Number(m[2]) : first;
  if (!m || last < first) throw new CLIError(`--layers must be a range like 0-13 or a part like 2/3, got '${value}'`, "bad_option", 2);
  return { first, last };
}
