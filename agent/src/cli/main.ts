/**
 * aria-agent entry point. The only place that prints errors and sets the exit code: commands
 * throw CLIError (or anything else, reported as an internal error) and return normally.
 */
import { parseArgs } from "node:util";
import { CLIError } from "./cli-error.ts";

const USAGE = `usage: aria-agent <command> [options]

commands:
  start --coordinator <url> --model <path|id>   serve a model to a coordinator
        [--layers a-b | i/N | all] [--threads T] [--head q8_0|file] [--max-sessions N]
        [--cache-dir DIR] [--config-dir DIR] [--ledger-vkey VKEY] [--consent FILE]
        without --layers the agent takes what the network is missing, as much as fits in RAM;
        the agent witnesses the coordinator's log (trusting VKEY, else the key it first sees)
  generate --model <path|id> --prompt "<text>"   complete raw text locally, no network
        [--max-tokens N] [--temperature T] [--top-p P] [--seed S] [--threads T] [--head q8_0|file]
        [--cache-dir DIR]
  consent show | set KEY=VALUE… | revoke [--now]   the owner's consent contract (what the agent may use)
  ledger verify --coordinator <url> [--vkey VKEY]   verify a coordinator's provenance log
        [--request ID | --entry N | --all] [--config-dir DIR]
  status [--json] [--config-dir DIR]   what this machine's agent is doing, and its standing
  models pull <alias|owner/repo:file|url> | list | rm <name> | verify <name>   the models kept here

every command takes --help; aria-agent --version prints the version

the built-in model id is aria-tiny-random (random weights: it produces random text)`;

const COMMANDS: Record<string, () => Promise<{ run(args: string[]): Promise<void> }>> = {
  start: () => import("./commands/start.ts"),
  generate: () => import("./commands/generate.ts"),
  ledger: () => import("./commands/ledger.ts"),
  consent: () => import("./commands/consent.ts"),
  status: () => import("./commands/status.ts"),
  models: () => import("./commands/models.ts"),
};

async function main(argv: string[]): Promise<void> {
  if (argv[0] === "--version" || argv[0] === "version") {
    console.log((await import("../version.ts")).AGENT_VERSION);
    return;
  }
  const { positionals } = parseArgs({ args: argv.slice(0, 1), allowPositionals: true, strict: false });
  const name = positionals[0];
  if (!name || name === "help" || name === "--help" || name === "-h") {
    console.log(USAGE);
    return;
  }
  const load = COMMANDS[name];
  if (!load) throw new CLIError(`unknown command '${name}' (try: aria-agent help)`, "unknown_command", 2);
  await (await load()).run(argv.slice(1));
}

main(process.argv.slice(2)).catch((err: unknown) => {
  if (err instanceof CLIError) {
    console.error(`aria-agent: ${err.message}`);
    process.exit(err.exitCode);
  }
  const message = err instanceof Error ? err.message : String(err);
  console.error(`aria-agent: internal error: ${message}`);
  process.exit(70);
});
