// The provenance log's benchmark: sustained appends/s of the real sequencer on a real local D1 in
// workerd, the latency from a completion's end to its inclusion in a signed checkpoint on the real
// coordinator, and proof-fetch and `aria-agent ledger verify --all` times at 10⁵ entries. See
// benchmarks/README.md.
//
//   npm run bench -- ledger [--entries 100000] [--out FILE]
//
// Appends and proofs run on a benchmark-only Worker (benchmarks/ledger/bench-worker.ts under
// wrangler dev: the coordinator's Sequencer, LogStore and /ledger routes over its own local D1 —
// the coordinator itself offers no way to append arbitrary entries); inclusion latency runs on the
// real coordinator with one agent on the built-in model.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeLedgerKey } from "../scripts/ledger-key.mjs";
import { freePort, startAgent, startCoordinator, stopGroup, waitFor, waitForModel } from "../scripts/local-network.mjs";
import { UsageError } from "./common.mjs";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const HERE = join(ROOT, "benchmarks", "ledger");
const CONFIG = join(HERE, "wrangler.toml");
const BIN = join(ROOT, "node_modules", ".bin");
const WRANGLER_ENV = { WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", NO_COLOR: "1" };
const DB_NAME = "aria-ledger-bench";
const MODEL = "aria-tiny-random";

export const usage = `usage: npm run bench -- ledger [options]
  --entries N        log size for the proof and verify figures (default 100000; 2000 checks the harness)
  --completions N    completions on the real coordinator for the inclusion latency (default 30)
  --requests N       requests per proof-fetch figure (default 200)
  --out FILE         write the JSON results there (the table is printed either way)`;

// ── helpers ─────────────────────────────────────────────────────────────────────────────────────

/** A small deterministic PRNG (mulberry32), so runs pick the same indices and pauses. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return {
    n: sorted.length,
    p50: at(0.5),
    p90: at(0.9),
    max: sorted.at(-1),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** POST JSON without fetch's timeouts (an /append call can run for a minute). */
function postJson(url, body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body));
    const req = request(url, { method: "POST", headers: { "content-type": "application/json", "content-length": data.length } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d) => {
        text += d;
      });
      res.on("end", () => {
        if (res.statusCode !== 200) reject(new Error(`POST ${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`));
        else resolve(JSON.parse(text));
      });
    });
    req.on("error", reject);
    req.end(data);
  });
}

/** The c2sp.org/tlog-tiles spelling of a tile index: 3-digit groups, all but the last prefixed "x". */
function tileIndexPath(n) {
  let path = String(n % 1000).padStart(3, "0");
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) path = `x${String(n % 1000).padStart(3, "0")}/${path}`;
  return path;
}

function machine() {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const field = (name) => cpuinfo.match(new RegExp(`^${name}\\s*:\\s*(.*)$`, "m"))?.[1];
  const version = (args) => spawnSync(args[0], args.slice(1), { cwd: ROOT, encoding: "utf8" }).stdout?.trim() || undefined;
  const pkg = (name) => JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")).version;
  return {
    cpu: field("model name") ?? os.cpus()[0]?.model,
    vendor: field("vendor_id"),
    cpu_family: Number(field("cpu family")),
    cpu_model: Number(field("model")),
    cpus: os.cpus().length,
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    kernel: os.release(),
    node: process.version,
    bun: version([join(BIN, "bun"), "--version"]),
    wrangler: pkg("wrangler"),
    workerd: pkg("workerd"),
    git: version(["git", "rev-parse", "--short", "HEAD"]),
    git_dirty: version(["git", "status", "--porcelain", "--untracked-files=no"])?.split("\n").filter(Boolean).length ?? 0,
  };
}

function fmt(x, digits = 1) {
  return x === undefined || x === null || Number.isNaN(x) ? "-" : x.toFixed(digits);
}

// ── the benchmark Worker ────────────────────────────────────────────────────────────────────────

async function startBenchWorker({ persistDir, ledgerKey }) {
  mkdirSync(persistDir, { recursive: true });
  const applied = spawnSync(
    join(BIN, "wrangler"),
    ["d1", "migrations", "apply", DB_NAME, "--local", "--persist-to", persistDir, "--config", CONFIG],
    {
      cwd: ROOT,
      env: { ...process.env, ...WRANGLER_ENV, CI: "true" },
      encoding: "utf8",
    },
  );
  if (applied.status !== 0) throw new Error(`applying D1 migrations to the bench database failed:\n${applied.stdout}\n${applied.stderr}`);
  const port = await freePort();
  const lines = [];
  const child = spawn(
    join(BIN, "wrangler"),
    [
      "dev",
      "--config",
      CONFIG,
      "--ip",
      "127.0.0.1",
      "--port",
      String(port),
      "--inspector-port",
      String(await freePort()),
      "--persist-to",
      persistDir,
      "--var",
      `ARIA_LEDGER_KEY:${ledgerKey}`,
      "--show-interactive-dev-session=false",
      "--log-level",
      "warn",
    ],
    { cwd: ROOT, env: { ...process.env, ...WRANGLER_ENV }, stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => lines.push(...chunk.split("\n").filter(Boolean)));
  }
  const url = `http://127.0.0.1:${port}`;
  try {
    // The first checkpoint request makes the log sign its empty tree (via SWARM.ledgerCheckpoint()).
    await waitFor("the ledger bench worker", async () => (await fetch(`${url}/ledger/checkpoint`)).ok, {
      timeoutMs: 90_000,
      process: child,
    });
  } catch (err) {
    await stopGroup(child);
    throw new Error(`${err.message}\n${lines.slice(-20).join("\n")}`);
  }
  return { url, child, lines };
}

/** Client-timed CPU cost of `what` inside the Durable Object: (time of n rounds − time of 0) / n. */
async function cpuCost(url, what, n) {
  const time = async (rounds) => {
    let best = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t = performance.now();
      await postJson(`${url}/cpu`, { what, n: rounds });
      best = Math.min(best, performance.now() - t);
    }
    return best;
  };
  const base = await time(0);
  return Math.max(0, (await time(n)) - base) / n;
}

async function timeGets(url, paths) {
  const ms = [];
  let bytes = 0;
  for (const path of paths) {
    const t = performance.now();
    const res = await fetch(`${url}${path}`);
    const body = new Uint8Array(await res.arrayBuffer());
    ms.push(performance.now() - t);
    if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${new TextDecoder().decode(body).slice(0, 300)}`);
    bytes += body.length;
  }
  return { ...stats(ms), bytes_mean: bytes / paths.length };
}

function runVerify(url, vkey, configDir, select) {
  return new Promise((resolve, reject) => {
    const args = [
      join(ROOT, "agent", "bin", "aria-agent.ts"),
      "ledger",
      "verify",
      "--coordinator",
      url,
      "--vkey",
      vkey,
      "--config-dir",
      configDir,
      ...select,
    ];
    const t = performance.now();
    const child = spawn(join(BIN, "bun"), args, { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    for (const stream of [child.stdout, child.stderr]) stream.setEncoding("utf8").on("data", (d) => (out += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t;
      if (code !== 0) reject(new Error(`aria-agent ledger verify ${select.join(" ")} exited ${code}:\n${out.slice(-2000)}`));
      else resolve({ ms, output: out.trim().split("\n").slice(-3).join("\n") });
    });
  });
}

// ── the parts ───────────────────────────────────────────────────────────────────────────────────

/** Parts 1 and 3: appends/s, then the log filled to `entries`, proofs and verify over it. */
async function benchWorkerParts({ dir, entries, requests, ledgerKey }) {
  const worker = await startBenchWorker({ persistDir: join(dir, "bench-d1"), ledgerKey: ledgerKey.skey });
  const { url } = worker;
  try {
    const profile = {
      d1_round_trip_ms: (await postJson(`${url}/d1-ping`, { n: 200 })).mean_ms,
      sign_checkpoint_ms: await cpuCost(url, "sign", 200),
      leaf_hash_and_frontier_us: (await cpuCost(url, "leaf", 5000)) * 1000,
      leaf_hash_native_and_frontier_us: (await cpuCost(url, "leaf_native", 5000)) * 1000,
      entry_type_parse_us: (await cpuCost(url, "parse", 5000)) * 1000,
    };
    console.error(
      `profile: D1 round trip ${fmt(profile.d1_round_trip_ms, 2)} ms, checkpoint signature ${fmt(profile.sign_checkpoint_ms, 2)} ms, ` +
        `leaf hash + frontier ${fmt(profile.leaf_hash_and_frontier_us)} µs/entry (${fmt(profile.leaf_hash_native_and_frontier_us)} with crypto.subtle), ` +
        `type parse ${fmt(profile.entry_type_parse_us)} µs/entry`,
    );

    // Part 1: sustained appends/s.
    const rowCount = Math.min(10_000, Math.max(200, Math.floor(entries / 10)));
    const configs = [
      { concurrency: 1, perSubmit: 1 },
      { concurrency: 16, perSubmit: 1 },
      { concurrency: 256, perSubmit: 1 },
      { concurrency: 256, perSubmit: 1, flush: true },
    ];
    const appends = [];
    for (const c of configs) {
      const r = await postJson(`${url}/append`, { count: rowCount, ...c });
      appends.push(r);
      console.error(
        `appends: ${c.concurrency} concurrent${c.flush ? " (flushed)" : ""}: ${fmt(r.appends_per_s, 0)}/s ` +
          `(${r.steps.count} steps of ${fmt(r.steps.entries_mean, 0)} entries, submit p50 ${fmt(r.submit_ms.p50, 0)} ms)`,
      );
    }

    // Part 3: fill to `entries` (the fastest path of part 1), then proofs and verify.
    const fill = [];
    let size = appends.at(-1).size_after;
    while (size < entries) {
      const count = Math.min(10_000, entries - size);
      const r = await postJson(`${url}/append`, { count, concurrency: 256, perSubmit: 1 });
      size = r.size_after;
      fill.push({ size_after: size, count, appends_per_s: r.appends_per_s, steps: r.steps.count, build_ms: r.build_ms });
      console.error(`fill: ${size} entries (${fmt(r.appends_per_s, 0)}/s)`);
    }
    const rand = prng(0x1ed9e5);
    const pick = (n) => Math.floor(rand() * n);
    const fullTiles = Math.floor(size / 256);
    const reads = {
      checkpoint: await timeGets(
        url,
        Array.from({ length: requests }, () => "/ledger/checkpoint"),
      ),
      entry: await timeGets(
        url,
        Array.from({ length: requests }, () => `/ledger/entry/${pick(size)}`),
      ),
      consistency: await timeGets(
        url,
        Array.from({ length: requests }, () => `/ledger/consistency?old=${1 + pick(size - 1)}&new=${size}`),
      ),
      tile: await timeGets(
        url,
        Array.from({ length: requests }, () => `/ledger/tile/0/${tileIndexPath(pick(fullTiles))}`),
      ),
      entry_bundle: await timeGets(
        url,
        Array.from({ length: requests }, () => `/ledger/tile/entries/${tileIndexPath(pick(fullTiles))}`),
      ),
    };
    for (const [k, v] of Object.entries(reads)) console.error(`GET ${k}: p50 ${fmt(v.p50, 2)} ms, p90 ${fmt(v.p90, 2)} ms`);

    // verify: once for one entry (checkpoint + the whole tree from the tiles), once --all.
    const treeOnly = await runVerify(url, ledgerKey.vkey, join(dir, "verifier-tree"), ["--entry", String(pick(size))]);
    console.error(`verify --entry: ${fmt(treeOnly.ms / 1000, 2)} s`);
    const all = await runVerify(url, ledgerKey.vkey, join(dir, "verifier-all"), ["--all"]);
    console.error(`verify --all: ${fmt(all.ms / 1000, 2)} s (exit 0)\n${all.output}`);
    return {
      profile,
      row_count: rowCount,
      appends,
      fill,
      size,
      reads,
      verify: { tree_and_one_entry_ms: treeOnly.ms, all_ms: all.ms, all_output: all.output },
    };
  } finally {
    await stopGroup(worker.child);
  }
}

/** Part 2: completion → inclusion in a signed checkpoint, on the real coordinator. */
async function inclusionPart({ dir, completions, ledgerKey }) {
  const apiKey = `bench-${Math.random().toString(16).slice(2)}`;
  const coordinator = await startCoordinator({
    port: await freePort(),
    persistDir: join(dir, "coordinator"),
    apiKey,
    ledgerKey: ledgerKey.skey,
  });
  const agent = startAgent({ coordinator: coordinator.url, model: MODEL, configDir: join(dir, "agent") });
  try {
    await waitForModel(coordinator.url, apiKey, MODEL, { timeoutMs: 120_000, process: agent });
    const rand = prng(0x5eed);
    const completion = async (i) => {
      const t0 = performance.now();
      const res = await fetch(`${coordinator.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body: JSON.stringify({
          model: MODEL,
          messages: [{ role: "user", content: `Ledger benchmark request ${i}.` }],
          max_tokens: 4,
          temperature: 0,
        }),
      });
      const body = await res.json();
      const done = performance.now();
      if (!res.ok) throw new Error(`completion ${i}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      for (let polls = 1; ; polls++) {
        const r = await fetch(`${coordinator.url}/ledger/request/${encodeURIComponent(body.id)}`);
        if (r.status === 200) {
          const found = await r.json();
          return {
            completion_ms: done - t0,
            inclusion_ms: performance.now() - done,
            polls,
            entry_bytes: Buffer.from(found.entry_bytes, "base64").length,
            tree_size: found.checkpoint.size,
          };
        }
        const text = await r.text();
        if (r.status !== 404) throw new Error(`GET /ledger/request/${body.id}: HTTP ${r.status} ${text.slice(0, 300)}`);
        if (performance.now() - done > 30_000) throw new Error(`request ${body.id} was not in a checkpoint after 30 s`);
        await sleep(10);
      }
    };
    for (let i = 0; i < 2; i++) await completion(-1 - i); // warm-up: not counted
    const runs = [];
    for (let i = 0; i < completions; i++) {
      // A random pause puts each request at a random phase of the sequencer's 1 s cadence; back to
      // back, every request would end right after a step and wait the whole second.
      await sleep(rand() * 1000);
      runs.push(await completion(i));
    }
    const inclusion = stats(runs.map((r) => r.inclusion_ms));
    const latency = stats(runs.map((r) => r.completion_ms));
    console.error(`inclusion: p50 ${fmt(inclusion.p50, 0)} ms, p90 ${fmt(inclusion.p90, 0)} ms; completion p50 ${fmt(latency.p50, 0)} ms`);
    return { completions, inclusion_ms: inclusion, completion_ms: latency, entry_bytes: runs[0]?.entry_bytes, runs };
  } finally {
    await stopGroup(agent);
    await stopGroup(coordinator.child);
  }
}

// ── the table ───────────────────────────────────────────────────────────────────────────────────

function printReport(report) {
  const { machine: m, appends, fill, reads, verify, inclusion, profile, size } = report;
  const out = [];
  out.push(
    `\nCPU: ${m.cpu} (family ${m.cpu_family} model ${m.cpu_model}), ${m.cpus} cpus, ${m.memory_gb} GB; load average at start ${report.load_average_start.map((x) => x.toFixed(2)).join(" ")}`,
  );
  out.push(
    `\nappends (real Sequencer + LogStore, local D1 in workerd; ${report.row_count} entries of ${fmt(appends[0].entry_bytes_mean, 0)} B per row)`,
  );
  out.push("concurrent  flush  appends/s  steps  entries/step  step gap ms  submit p50/p90 ms  D1 writes");
  for (const r of appends) {
    out.push(
      `${String(r.concurrency).padStart(10)}  ${(r.flush ? "yes" : "no").padStart(5)}  ${fmt(r.appends_per_s, 0).padStart(9)}  ${String(r.steps.count).padStart(5)}  ${fmt(r.steps.entries_mean, 0).padStart(12)}  ${fmt(r.steps.gap_ms_mean, 0).padStart(11)}  ${`${fmt(r.submit_ms.p50, 0)}/${fmt(r.submit_ms.p90, 0)}`.padStart(17)}  ${String(r.enqueue_writes).padStart(9)}`,
    );
  }
  if (fill.length > 0)
    out.push(`fill to ${size}: ${fill.map((f) => fmt(f.appends_per_s, 0)).join(", ")} appends/s per 10k (256 concurrent)`);
  out.push(
    `profile: D1 round trip ${fmt(profile.d1_round_trip_ms, 2)} ms; checkpoint signature ${fmt(profile.sign_checkpoint_ms, 2)} ms; leaf hash + frontier ${fmt(profile.leaf_hash_and_frontier_us)} µs/entry (${fmt(profile.leaf_hash_native_and_frontier_us)} µs with crypto.subtle); entry type parse ${fmt(profile.entry_type_parse_us)} µs`,
  );
  out.push(`\nreads at ${size} entries (${reads.entry.n} requests each)`);
  out.push("request                          p50 ms   p90 ms   max ms   bytes");
  const names = {
    checkpoint: "GET /ledger/checkpoint",
    entry: "GET /ledger/entry/<i>",
    consistency: "GET /ledger/consistency",
    tile: "GET /ledger/tile/0/<N>",
    entry_bundle: "GET /ledger/tile/entries/<N>",
  };
  for (const [k, v] of Object.entries(reads))
    out.push(
      `${names[k].padEnd(31)}${fmt(v.p50, 2).padStart(8)}${fmt(v.p90, 2).padStart(9)}${fmt(v.max, 2).padStart(9)}${String(Math.round(v.bytes_mean)).padStart(8)}`,
    );
  out.push(
    `aria-agent ledger verify --all over ${size} entries: ${fmt(verify.all_ms / 1000, 1)} s (exit 0); tree + one entry: ${fmt(verify.tree_and_one_entry_ms / 1000, 1)} s`,
  );
  out.push(
    `\ninclusion on the real coordinator (${inclusion.completions} completions, max_tokens 4, 1 agent, ${MODEL}; entry ${inclusion.entry_bytes} B)`,
  );
  out.push("                                   p50 ms   p90 ms   max ms");
  for (const [label, s] of [
    ["response end → in a checkpoint", inclusion.inclusion_ms],
    ["completion (request → response)", inclusion.completion_ms],
  ])
    out.push(`${label.padEnd(35)}${fmt(s.p50, 0).padStart(6)}${fmt(s.p90, 0).padStart(9)}${fmt(s.max, 0).padStart(9)}`);
  console.log(out.join("\n"));
}

// ── run ─────────────────────────────────────────────────────────────────────────────────────────

export async function run(args) {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        entries: { type: "string", default: "100000" },
        completions: { type: "string", default: "30" },
        requests: { type: "string", default: "200" },
        out: { type: "string" },
      },
    }));
  } catch (e) {
    throw new UsageError(e.message);
  }
  const entries = Number(values.entries);
  const completions = Number(values.completions);
  const requests = Number(values.requests);
  if (!Number.isInteger(entries) || entries < 1000) throw new UsageError("--entries must be an integer ≥ 1000");
  if (!Number.isInteger(completions) || completions < 1) throw new UsageError("--completions must be a positive integer");
  if (!Number.isInteger(requests) || requests < 1) throw new UsageError("--requests must be a positive integer");

  const loadStart = os.loadavg();
  const m = machine();
  console.error(`ledger benchmark: ${m.cpu}, ${m.cpus} cpus; load average at start ${loadStart.map((x) => x.toFixed(2)).join(" ")}`);
  if (loadStart[0] > 0.5) console.error(`note: load average ${loadStart[0].toFixed(2)}; figures are best measured on a quiet machine`);
  const dir = mkdtempSync(join(os.tmpdir(), "aria-bench-ledger-"));
  const wranglerTmp = join(HERE, ".wrangler");
  const hadWranglerTmp = existsSync(wranglerTmp);
  const started = Date.now();
  let report;
  try {
    const ledgerKey = makeLedgerKey("bench.aria.local/ledger");
    const worker = await benchWorkerParts({ dir, entries, requests, ledgerKey });
    const inclusion = await inclusionPart({ dir, completions, ledgerKey });
    report = {
      benchmark: "ledger",
      date: new Date().toISOString(),
      duration_s: (Date.now() - started) / 1000,
      machine: m,
      load_average_start: loadStart,
      load_average_end: os.loadavg(),
      entries,
      ...worker,
      inclusion,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (!hadWranglerTmp) rmSync(wranglerTmp, { recursive: true, force: true });
  }
  printReport(report);
  if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
}
