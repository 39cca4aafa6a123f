/**
 * `aria-agent consent show | set KEY=VALUE… | revoke [--now]`: the owner's consent contract
 * (docs/consent.md). A running agent picks changes up within a second, signs them and sends them
 * to its coordinator, which logs them.
 */
import { type ConsentContract, ConsentError, parseContract, summarize } from "../../../../shared/consent/contract.ts";
import { consentPath, loadConsent, saveConsent } from "../../consent/consent-file.ts";
import { defaultConfigDir } from "../../identity/node-key.ts";
import { CLIError } from "../cli-error.ts";
import { parseOptions } from "../parse-options.ts";

const USAGE = `usage: aria-agent consent show [--json]
       aria-agent consent set KEY=VALUE…     e.g. cpu_percent=50 schedule=22:00-06:00 days=mon,tue task_types=chat
       aria-agent consent revoke [--now]     no new work; --now also stops open work (it moves to other agents)
options: --consent FILE (default <config dir>/consent.json), --config-dir DIR
fields: cpu_percent, max_ram_mb, max_bandwidth_mbps, schedule, days, task_types, max_concurrent_tasks,
        allow_logging, min_contribution_score, revoked, stop_open_work (docs/consent.md)`;

export async function run(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(USAGE);
    return;
  }
  const positionals = rest.filter((a) => !a.startsWith("--") && a.includes("="));
  const opts = parseOptions(
    rest.filter((a) => !positionals.includes(a)),
    {
      consent: { type: "string" },
      "config-dir": { type: "string" },
      json: { type: "boolean" },
      now: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  );
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const path = consentPath(opts["config-dir"] ?? defaultConfigDir(process.env), opts.consent);
  const { contract, fromFile } = loadConsent(path);
  switch (sub) {
    case "show":
      if (opts.json) console.log(JSON.stringify(contract, null, 2));
      else console.log(`${summarize(contract)}\n(${fromFile ? path : `no consent file at ${path}: the default contract applies`})`);
      return;
    case "set": {
      if (positionals.length === 0)
        throw new CLIError("consent set needs KEY=VALUE pairs (try: aria-agent consent --help)", "bad_option", 2);
      const changed: Record<string, unknown> = { ...contract };
      for (const pair of positionals) {
        const eq = pair.indexOf("=");
        changed[pair.slice(0, eq)] = fieldValue(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const next = checked(changed);
      saveConsent(path, next);
      console.log(summarize(next));
      return;
    }
    case "revoke": {
      const next = checked({ ...contract, revoked: true, stop_open_work: opts.now === true });
      saveConsent(path, next);
      console.log(
        opts.now ? "consent revoked: open work stops now and moves to other agents" : "consent revoked: no new work; open work finishes",
      );
      return;
    }
    default:
      throw new CLIError(`unknown consent command '${sub}' (try: aria-agent consent --help)`, "unknown_command", 2);
  }
}

function checked(json: Record<string, unknown>): ConsentContract {
  try {
    return parseContract(json);
  } catch (err) {
    if (err instanceof ConsentError) throw new CLIError(`consent: ${err.message}`, "bad_consent", 2);
    throw err;
  }
}

/** A value from the command line: lists for list fields, numbers and booleans where they parse. */
function fieldValue(key: string, text: string): unknown {
  if (key === "days" || key === "task_types") return text.split(",").filter((s) => s.length > 0);
  if (key === "schedule") return text.includes(",") ? text.split(",") : text;
  if (text === "true" || text === "false") return text === "true";
  if (text !== "" && !Number.isNaN(Number(text))) return Number(text);
  return text;
}
