/**
 * `aria-agent models pull | list | rm | verify` (docs/models.md): the models this machine keeps.
 * A pulled model is usable as `--model <name>` by `start` and `generate`.
 */

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { defaultCacheDir } from "../../model/builtin.ts";
import { DownloadError, download } from "../../model/download.ts";
import { listStored, ModelStoreError, modelsDir, pullSource, removeStored, verifyStored } from "../../model/model-store.ts";
import { CLIError } from "../cli-error.ts";

const USAGE = `usage: aria-agent models pull <alias | owner/repo:file.gguf | https://…> [--sha256 HEX]
       aria-agent models list [--json]
       aria-agent models rm <name>
       aria-agent models verify <name>
options: --cache-dir DIR (default ~/.cache/aria); the hub is $HF_ENDPOINT (default the public hub); HF_TOKEN is sent when set
pull resumes after interruptions and verifies the file's SHA-256 (the hub's, or --sha256)`;

const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;

/** A progress line: redrawn in place on a terminal, a plain line every 10 % otherwise. */
function progress(label: string) {
  const started = Date.now();
  let lastTenth = -1;
  return (done: number, total: number | null) => {
    const secs = Math.max(0.001, (Date.now() - started) / 1000);
    const rate = done / secs;
    const pct = total ? (100 * done) / total : null;
    const eta = total && rate > 0 ? Math.max(0, (total - done) / rate) : null;
    const line = `${label}: ${mb(done)}${total ? ` of ${mb(total)} (${pct!.toFixed(0)} %)` : ""}, ${mb(rate)}/s${eta !== null ? `, ${eta.toFixed(0)} s left` : ""}`;
    if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K`);
    else if (pct !== null && Math.floor(pct / 10) > lastTenth) {
      lastTenth = Math.floor(pct / 10);
      console.error(line);
    }
  };
}

export async function run(args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
    console.log(USAGE);
    return;
  }
  let opts: { "cache-dir"?: string; sha256?: string; json?: boolean; help?: boolean };
  let args2: string[];
  try {
    const parsed = parseArgs({
      args: rest,
      options: {
        "cache-dir": { type: "string" },
        sha256: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: true,
      strict: true,
    });
    opts = parsed.values;
    args2 = parsed.positionals;
  } catch (err) {
    throw new CLIError((err as Error).message, "bad_option", 2);
  }
  if (opts.help) {
    console.log(USAGE);
    return;
  }
  const cacheDir =
    opts["cache-dir"] ?? defaultCacheDir({ ARIA_CACHE_DIR: process.env.ARIA_CACHE_DIR, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME });
  try {
    switch (sub) {
      case "pull": {
        if (args2.length !== 1) throw new CLIError("models pull takes one model spec (try: aria-agent models --help)", "bad_option", 2);
        const source = pullSource(args2[0]!, process.env);
        mkdirSync(modelsDir(cacheDir), { recursive: true });
        const dest = join(modelsDir(cacheDir), `${source.name}.gguf`);
        const result = await download({
          url: source.url,
          dest,
          headers: source.headers,
          ...(opts.sha256 ? { sha256: opts.sha256 } : {}),
          onProgress: progress(source.name),
          onNote: (l) => console.error(`\n${source.name}: ${l}`),
        });
        if (process.stderr.isTTY) process.stderr.write("\n");
        console.log(
          `${source.name}: ${mb(result.bytes)}, sha256 ${result.sha256}${result.verified ? " (verified)" : " (not verified: the server named no hash; pass --sha256)"}`,
        );
        console.log(`use it with: aria-agent start --model ${source.name} --coordinator <url>`);
        return;
      }
      case "list": {
        const models = listStored(cacheDir);
        if (opts.json) console.log(JSON.stringify(models, null, 2));
        else if (models.length === 0) console.log(`no models in ${modelsDir(cacheDir)}`);
        else for (const m of models) console.log(`${m.name}\t${mb(m.bytes)}\t${m.sha256 ?? "(no recorded sha256)"}`);
        return;
      }
      case "rm":
        if (args2.length !== 1) throw new CLIError("models rm takes one name", "bad_option", 2);
        removeStored(cacheDir, args2[0]!);
        console.log(`removed ${args2[0]}`);
        return;
      case "verify": {
        if (args2.length !== 1) throw new CLIError("models verify takes one name", "bad_option", 2);
        const r = await verifyStored(cacheDir, args2[0]!);
        if (!r.ok)
          throw new CLIError(
            `${args2[0]}: SHA-256 ${r.sha256} is not the ${r.expected} it was pulled with (the file changed)`,
            "verify_failed",
          );
        console.log(`${args2[0]}: sha256 ${r.sha256}${r.expected ? " matches" : " (no recorded hash to compare)"}`);
        return;
      }
      default:
        throw new CLIError(`unknown models command '${sub}' (try: aria-agent models --help)`, "unknown_command", 2);
    }
  } catch (err) {
    if (err instanceof DownloadError || err instanceof ModelStoreError) throw new CLIError(err.message, "model_store");
    throw err;
  }
}
