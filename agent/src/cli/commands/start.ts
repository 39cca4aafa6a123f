/** `aria-agent start`: load a model, dial the coordinator, serve completions until stopped. */

import { Agent } from "../../serve/agent.ts";
import { CLIError } from "../cli-error.ts";
import { parseOptions, positiveInt } from "../parse-options.ts";

export async function run(args: string[]): Promise<void> {
  const opts = parseOptions(args, {
    coordinator: { type: "string" },
    model: { type: "string" },
    "max-sessions": { type: "string" },
    "cache-dir": { type: "string" },
    "config-dir": { type: "string" },
  });
  if (!opts.coordinator) throw new CLIError("--coordinator <url> is required", "bad_option", 2);
  if (!opts.model) throw new CLIError("--model <path|id> is required (the built-in model is aria-tiny-random)", "bad_option", 2);
  const agent = await Agent.create({
    coordinator: opts.coordinator,
    model: opts.model,
    maxSessions: positiveInt(opts["max-sessions"], "max-sessions", 4),
    cacheDir: opts["cache-dir"],
    configDir: opts["config-dir"],
    env: process.env,
    log: (line) => console.error(`[aria-agent] ${line}`),
  });
  agent.start();
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      agent.log(`${signal}: stopping`);
      agent.stop();
      resolve();
    };
    process.once("SIGINT", () => stop("SIGINT"));
    process.once("SIGTERM", () => stop("SIGTERM"));
  });
}
