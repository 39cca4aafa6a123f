#!/usr/bin/env node
// `aria`: the coordinator operator's command line (docs/api.md, "Keys"). Talks to a coordinator's
// admin API with the admin token from ARIA_ADMIN_TOKEN; never puts the token in a URL or argument.
import { parseArgs } from "node:util";

const USAGE = `usage: aria <command> [options]

commands:
  keys create --name NAME [--rpm N] [--tpm N] [--concurrency N]   make an API key (printed once, alone on the last line)
  keys list [--json]                                              every key: name, prefix, limits, last use, revoked
  keys revoke NAME                                                revoke a key at once
  usage [--key NAME] [--json]                                     requests and tokens per key, end user and day

options: --coordinator URL (default http://127.0.0.1:8787); the admin token comes from ARIA_ADMIN_TOKEN
every command takes --help`;

class CliError extends Error {
  constructor(message, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

function options(args, spec) {
  try {
    return parseArgs({
      args,
      options: { ...spec, coordinator: { type: "string" }, help: { type: "boolean", short: "h" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    throw new CliError(err.message, 2);
  }
}

function positiveInt(value, name) {
  if (value === undefined) return undefined;
  if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new CliError(`--${name} must be a positive integer, got '${value}'`, 2);
  return Number(value);
}

async function admin(coordinator, method, path, body) {
  const token = process.env.ARIA_ADMIN_TOKEN;
  if (!token) throw new CliError("set ARIA_ADMIN_TOKEN to the coordinator's admin token (npm start prints it)", 2);
  let base;
  try {
    base = new URL(coordinator ?? "http://127.0.0.1:8787");
  } catch {
    throw new CliError(`--coordinator: not a URL: ${coordinator}`, 2);
  }
  let res;
  try {
    res = await fetch(new URL(`/admin/api/${path}`, base), {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new CliError(`cannot reach ${base.origin}: ${err.message}`);
  }
  const json = await res.json().catch(() => null);
  if (!res.ok) throw new CliError(json?.error?.message ?? `HTTP ${res.status}`);
  return json;
}

const when = (ms) => (ms ? new Date(ms).toISOString().replace(".000Z", "Z") : "never");
const limit = (n) => (n === null || n === undefined ? "-" : String(n));

async function keys(args) {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") return console.log(USAGE);
  if (sub === "create") {
    const { values } = options(rest, {
      name: { type: "string" },
      rpm: { type: "string" },
      tpm: { type: "string" },
      concurrency: { type: "string" },
    });
    if (values.help) return console.log(USAGE);
    if (!values.name) throw new CliError("keys create needs --name NAME", 2);
    const made = await admin(values.coordinator, "POST", "keys", {
      name: values.name,
      rpm: positiveInt(values.rpm, "rpm"),
      tpm: positiveInt(values.tpm, "tpm"),
      concurrency: positiveInt(values.concurrency, "concurrency"),
    });
    console.log(`key '${made.name}': ${limit(made.rpm)} requests/min, ${limit(made.tpm)} tokens/min, ${limit(made.concurrency)} at once`);
    console.log("it is shown only now; store it:");
    console.log(made.key);
    return;
  }
  if (sub === "list") {
    const { values } = options(rest, { json: { type: "boolean" } });
    if (values.help) return console.log(USAGE);
    const { data } = await admin(values.coordinator, "GET", "keys");
    if (values.json) return console.log(JSON.stringify(data, null, 2));
    if (data.length === 0) return console.log("no keys (the ARIA_API_KEYS ones are not listed)");
    for (const k of data)
      console.log(
        `${k.name}\t${k.prefix}…\trpm ${limit(k.rpm)}\ttpm ${limit(k.tpm)}\tconcurrency ${limit(k.concurrency)}\tlast used ${when(k.last_used_at)}${k.revoked ? `\tREVOKED ${when(k.revoked_at)}` : ""}`,
      );
    return;
  }
  if (sub === "revoke") {
    const { values, positionals } = options(rest, {});
    if (values.help) return console.log(USAGE);
    if (positionals.length !== 1) throw new CliError("keys revoke takes one key name", 2);
    await admin(values.coordinator, "DELETE", `keys/${encodeURIComponent(positionals[0])}`);
    console.log(`key '${positionals[0]}' revoked`);
    return;
  }
  throw new CliError(`unknown keys command '${sub}' (try: aria keys --help)`, 2);
}

async function usage(args) {
  const { values } = options(args, { key: { type: "string" }, json: { type: "boolean" } });
  if (values.help) return console.log(USAGE);
  const { data } = await admin(values.coordinator, "GET", `usage${values.key ? `?key=${encodeURIComponent(values.key)}` : ""}`);
  if (values.json) return console.log(JSON.stringify(data, null, 2));
  for (const r of data)
    console.log(
      `${r.day}\t${r.key}\t${r.user ?? "-"}\t${r.requests} requests\t${r.prompt_tokens} prompt + ${r.completion_tokens} completion tokens`,
    );
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === "help" || command === "--help" || command === "-h") return console.log(USAGE);
  if (command === "keys") return keys(rest);
  if (command === "usage") return usage(rest);
  throw new CliError(`unknown command '${command}' (try: aria --help)`, 2);
}

main(process.argv.slice(2)).catch((err) => {
  console.error(`aria: ${err instanceof CliError ? err.message : `internal error: ${err?.message ?? err}`}`);
  process.exit(err instanceof CliError ? err.exitCode : 70);
});
