/**
 * `aria-agent ledger verify`: check a coordinator's provenance log as anyone can (docs/ledger.md).
 * What this verifier saw of each log (origin + key) is kept in `<config dir>/ledger/`, so the next
 * run checks that the log only grew and verifies just the entries it has not seen.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseVkey } from "../../../../shared/ledger/note.ts";
import { defaultConfigDir } from "../../identity/node-key.ts";
import { type EntrySelection, type SeenState, VerifyFailure, verifyLog } from "../../ledger/log-verifier.ts";
import { CLIError } from "../cli-error.ts";
import { parseOptions } from "../parse-options.ts";

const USAGE = `usage: aria-agent ledger verify --coordinator <url> [--vkey <vkey>] [--request <id> | --entry <n> | --all]
        [--config-dir DIR] [--json]

checks the log's signed checkpoint and witness cosignatures, that it is consistent with the last
checkpoint this machine saw of it, the whole tree recomputed from its tiles, and the entries not
verified before (or the one asked for, or --all): exit 0 when everything holds, 1 otherwise;
--json prints the report as one JSON object (ok, origin, size, root, entries_checked, cosignatures, failures)`;

export async function run(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(USAGE);
    return;
  }
  if (sub !== "verify") throw new CLIError(`unknown ledger command '${sub}' (try: aria-agent ledger --help)`, "unknown_command", 2);
  const opts = parseOptions(rest, {
    coordinator: { type: "string" },
    vkey: { type: "string" },
    request: { type: "string" },
    entry: { type: "string" },
    all: { type: "boolean" },
    json: { type: "boolean" },
    "config-dir": { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  if (!opts.coordinator) throw new CLIError("--coordinator <url> is required", "bad_option", 2);
  const base = coordinatorBase(opts.coordinator);
  const chosen = [opts.request !== undefined, opts.entry !== undefined, opts.all === true].filter(Boolean).length;
  if (chosen > 1) throw new CLIError("choose one of --request, --entry and --all", "bad_option", 2);
  let select: EntrySelection = { kind: "new" };
  if (opts.all) select = { kind: "all" };
  else if (opts.request !== undefined) select = { kind: "request", id: opts.request };
  else if (opts.entry !== undefined) {
    if (!/^(0|[1-9][0-9]*)$/.test(opts.entry)) throw new CLIError(`--entry must be an entry index, got '${opts.entry}'`, "bad_option", 2);
    select = { kind: "index", index: Number(opts.entry) };
  }

  const fetchPath = async (path: string): Promise<Uint8Array> => {
    let res: Response;
    try {
      res = await fetch(new URL(path, base), { signal: AbortSignal.timeout(30_000) });
    } catch (err) {
      throw new CLIError(`cannot reach ${base}: ${(err as Error).message}`, "unreachable");
    }
    if (!res.ok) {
      const detail = await res.text().catch(() => "");
      throw new CLIError(`${new URL(path, base).pathname}: HTTP ${res.status} ${detail.slice(0, 200)}`.trim(), "bad_response");
    }
    return new Uint8Array(await res.arrayBuffer());
  };

  let vkey = opts.vkey;
  if (vkey === undefined) {
    vkey = new TextDecoder().decode(await fetchPath("ledger/vkey")).trim();
    console.error(`aria-agent: no --vkey given: trusting the key the coordinator names, ${vkey}`);
  }
  try {
    parseVkey(vkey);
  } catch (err) {
    throw new CLIError(`--vkey: ${(err as Error).message}`, "bad_option", 2);
  }
  const stateDir = join(opts["config-dir"] ?? defaultConfigDir(process.env), "ledger");
  const statePath = join(stateDir, `${createHash("sha256").update(`${base.origin}\n${vkey}`).digest("hex").slice(0, 32)}.json`);
  const seen = existsSync(statePath) ? (JSON.parse(readFileSync(statePath, "utf8")) as SeenState) : null;

  let report: Awaited<ReturnType<typeof verifyLog>>;
  try {
    report = await verifyLog(fetchPath, vkey, seen, select);
  } catch (err) {
    if (err instanceof VerifyFailure) {
      if (opts.json) console.log(JSON.stringify({ ok: false, failures: [err.message] }));
      else console.log(`FAIL ${err.message}`);
      throw new CLIError("the log did not verify", "verify_failed");
    }
    throw err;
  }
  if (opts.json) {
    console.log(
      JSON.stringify({
        ok: report.failures.length === 0,
        origin: report.origin,
        size: report.size,
        root: report.root,
        entries_checked: report.entriesChecked,
        cosignatures: report.cosignatures,
        consistent_with: seen?.size ?? null,
        failures: report.failures,
      }),
    );
  } else for (const failure of report.failures) console.log(`FAIL ${failure}`);
  if (report.failures.length > 0) throw new CLIError(`the log did not verify: ${report.failures.length} failure(s)`, "verify_failed");
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  writeFileSync(`${statePath}.tmp`, `${JSON.stringify(report.next, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${statePath}.tmp`, statePath);
  if (opts.json) return;
  const since = seen ? `, consistent with size ${seen.size} seen before` : "";
  console.log(
    `ok: ${report.origin} size ${report.size} root ${report.root}${since}; ${report.entriesChecked} entries checked; ` +
      `${report.cosignatures.valid} witness cosignature(s) verified`,
  );
}

/** The coordinator's origin (a /v1 API URL is accepted too). */
function coordinatorBase(value: string): URL {
  let url: URL;
  try {
    url = new URL(value.replace(/^ws/, "http"));
  } catch {
    throw new CLIError(`--coordinator: not a URL: ${value}`, "bad_option", 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new CLIError(`--coordinator: use an http(s) URL, got ${value}`, "bad_option", 2);
  const path = url.pathname.replace(/\/+$/, "").replace(/\/v1$/, "");
  return new URL(`${url.origin}${path}/`);
}
