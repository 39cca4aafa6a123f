/**
 * Pipeline benchmark (`npm run bench -- pipeline --out FILE`), on loopback: the coordinator under
 * wrangler dev and agents as Bun processes, measured from the client side with the openai client.
 * - tok/s and per-token latency (mean gap between streamed tokens) for 1, 2 and 3 stages, on the
 *   built-in model and on a mid-size synthetic model;
 * - the latency each extra hop adds per token: (latency(k stages) − latency(1 stage)) / (k − 1);
 * - aggregate tok/s with 1, 4 and 8 concurrent clients on a 2-stage pipeline;
 * - failover: time from SIGKILL of the serving agent to the next token, with a replica standing by.
 * Run: bun benchmarks/pipeline/pipeline-bench.ts [--out FILE] [--tokens N]
 */
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import OpenAI from "openai";
import { freePort, signalGroup, startAgent, startCoordinator, stopGroup, waitFor, waitForModel } from "../../scripts/local-network.mjs";
import { ensureMidSizeModel } from "./mid-size-model.ts";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { out: { type: "string" }, tokens: { type: "string", default: "64" } } });
const TOKENS = Number(values.tokens);

interface Row {
  model: string;
  mode: "stages" | "concurrency" | "failover";
  stages: number;
  clients: number;
  tokens_per_s: number;
  ms_per_token: number;
  note?: string;
}

const dir = mkdtempSync(join(tmpdir(), "aria-bench-pipeline-"));
const apiKey = `bench-${randomBytes(8).toString("hex")}`;
const coordinator = await startCoordinator({ port: await freePort(), persistDir: join(dir, "wrangler"), apiKey });
const client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey, maxRetries: 0 });
let agents: { child: ChildProcess; lines: string[] }[] = [];
const rows: Row[] = [];

function startAgents(model: string, layers: string[]) {
  agents = layers.map((l, i) => {
    const lines: string[] = [];
    const child = startAgent({
      coordinator: coordinator.url,
      model,
      configDir: join(dir, `agent-${i}`),
      extraArgs: ["--layers", l, "--max-sessions", "8"],
      onLine: (line) => lines.push(line),
    });
    return { child, lines };
  });
}

async function stopAgents() {
  await Promise.all(agents.map((a) => stopGroup(a.child)));
  agents = [];
  await waitFor("agents gone", async () => (await client.models.list()).data.length === 0, { timeoutMs: 30_000 });
}

/** One streamed greedy completion; token arrival times (ms). */
async function streamTimes(model: string, prompt: string, maxTokens: number, onChunk?: (n: number) => void): Promise<number[]> {
  const stream = await client.chat.completions.create({
    model,
    messages: [{ role: "user", content: prompt }],
    max_tokens: maxTokens,
    temperature: 0,
    stream: true,
  });
  const times: number[] = [];
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content) {
      times.push(performance.now());
      onChunk?.(times.length);
    }
  }
  return times;
}

function rate(times: number[]): { tokensPerS: number; msPerToken: number } {
  const span = times.at(-1)! - times[0]!;
  const gaps = times.length - 1;
  return { tokensPerS: (gaps * 1000) / span, msPerToken: span / gaps };
}

async function waitServed(model: string, n: number) {
  await waitFor(`${n} agents`, () => agents.filter((a) => a.lines.some((l) => l.includes("connected to"))).length >= n, {
    timeoutMs: 120_000,
  });
  await waitForModel(coordinator.url, apiKey, model, { timeoutMs: 120_000 });
}

const PROMPT = "Benchmarks measure; they do not guess.";

async function stageRuns(model: string, modelId: string, label: string) {
  for (const stages of [1, 2, 3]) {
    startAgents(
      model,
      Array.from({ length: stages }, (_, i) => `${i + 1}/${stages}`),
    );
    await waitServed(modelId, stages);
    await streamTimes(modelId, PROMPT, 8); // warm up caches and stage-time estimates
    const { tokensPerS, msPerToken } = rate(await streamTimes(modelId, PROMPT, TOKENS));
    rows.push({ model: label, mode: "stages", stages, clients: 1, tokens_per_s: tokensPerS, ms_per_token: msPerToken });
    console.error(`${label}: ${stages} stage(s): ${tokensPerS.toFixed(1)} tok/s, ${msPerToken.toFixed(2)} ms/token`);
    await stopAgents();
  }
}

try {
  const mid = await ensureMidSizeModel(join(dir, "models"));
  await stageRuns("aria-tiny-random", "aria-tiny-random", "aria-tiny-random");
  await stageRuns(mid.path, mid.id, mid.id);

  // Concurrency on a 2-stage pipeline of the built-in model.
  startAgents("aria-tiny-random", ["1/2", "2/2"]);
  await waitServed("aria-tiny-random", 2);
  for (const clients of [1, 4, 8]) {
    const started = performance.now();
    const all = await Promise.all(Array.from({ length: clients }, (_, i) => streamTimes("aria-tiny-random", `${PROMPT} #${i}`, TOKENS)));
    const seconds = (performance.now() - started) / 1000;
    const tokens = all.reduce((n, t) => n + t.length, 0);
    rows.push({
      model: "aria-tiny-random",
      mode: "concurrency",
      stages: 2,
      clients,
      tokens_per_s: tokens / seconds,
      ms_per_token: (seconds * 1000) / (tokens / clients),
    });
    console.error(`concurrency ${clients}: ${(tokens / seconds).toFixed(1)} tok/s aggregate`);
  }
  await stopAgents();

  // Failover: two whole-model replicas; kill the one serving, time to the next token.
  startAgents("aria-tiny-random", ["all", "all"]);
  await waitServed("aria-tiny-random", 2);
  let killedAt = 0;
  const times = await streamTimes("aria-tiny-random", PROMPT, 200, (n) => {
    if (n !== 20) return;
    const serving = agents.find((a) => a.lines.some((l) => /session \d+: stage 1\/1/.test(l)));
    if (serving) {
      killedAt = performance.now();
      signalGroup(serving.child, "SIGKILL");
    }
  });
  // Tokens already in flight when the agent died still arrive; the failover shows as the longest
  // gap between consecutive tokens after the kill (detection + re-plan + replay + next step).
  let failoverMs = Number.NaN;
  if (killedAt > 0) {
    const after = times.filter((t) => t >= killedAt);
    const gaps = after.slice(1).map((t, i) => t - after[i]!);
    const first = after[0] !== undefined ? after[0] - killedAt : Number.NaN;
    failoverMs = Math.max(first, ...gaps);
  }
  rows.push({
    model: "aria-tiny-random",
    mode: "failover",
    stages: 1,
    clients: 1,
    tokens_per_s: Number.NaN,
    ms_per_token: failoverMs,
    note: "longest token gap after SIGKILL of the serving agent, ms (replay included)",
  });
  console.error(`failover: ${failoverMs.toFixed(0)} ms longest token gap after SIGKILL`);
  await Promise.all(agents.map((a) => stopGroup(a.child)));
} finally {
  await stopGroup(coordinator.child);
  rmSync(dir, { recursive: true, force: true });
}

const hop = (label: string) => {
  const lat = (s: number) => rows.find((r) => r.model === label && r.mode === "stages" && r.stages === s)?.ms_per_token ?? Number.NaN;
  return { two: lat(2) - lat(1), three: (lat(3) - lat(1)) / 2 };
};
const report = {
  machine: { cpus: cpus().length, cpu: cpus()[0]?.model, memory_gb: Math.round(totalmem() / 2 ** 30) },
  tokens: TOKENS,
  results: rows,
  added_ms_per_hop: Object.fromEntries([...new Set(rows.filter((r) => r.mode === "stages").map((r) => r.model))].map((m) => [m, hop(m)])),
};
console.log("\nmodel                         mode          stages clients     tok/s   ms/token");
for (const r of rows) {
  console.log(
    `${r.model.padEnd(30)}${r.mode.padEnd(14)}${String(r.stages).padStart(6)}${String(r.clients).padStart(8)}${(Number.isNaN(r.tokens_per_s) ? "-" : r.tokens_per_s.toFixed(1)).padStart(10)}${r.ms_per_token.toFixed(2).padStart(11)}`,
  );
}
for (const [m, h] of Object.entries(report.added_ms_per_hop))
  console.log(`added per hop (${m}): 2 stages ${h.two.toFixed(2)} ms, 3 stages ${h.three.toFixed(2)} ms per hop`);
if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
