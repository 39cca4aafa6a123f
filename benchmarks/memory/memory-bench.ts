/**
 * The memory benchmark (benchmarks/README.md, "memory"): peak and after-serving RSS of agent-like
 * processes holding 1/1, 1/2, 1/3 and 1/4 of a model's layers (every stage of each split), above
 * an idle process's own footprint, against the bytes of what they hold. Models: the published
 * layouts of BitNet-b1.58-2B-4T and Llama3-8B-1.58 (tests/families/published-layouts.ts), written
 * once, in full, into the benchmark cache.
 *
 * Target: a stage holding layers [b, e) uses at most their tensor bytes + its ends (embedding on
 * the first stage, Q8_0 head on the last) + 64 MiB above the idle process, at peak and after serving.
 *
 *   bun benchmarks/memory/memory-bench.ts [--out FILE] [--models 2b4t,8b] [--splits 1,2,3,4]
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, homedir } from "node:os";
import { join } from "node:path";
import { footprintOf, rangeBytes } from "../../agent/src/model/footprint.ts";
import { readGgufHeaderFile } from "../../agent/src/model/gguf-file.ts";
import { ensureFamilyModel, family } from "../family-models.ts";

const MiB = 2 ** 20;
const ALLOWANCE = 64 * MiB;
const ROOT = join(import.meta.dir, "..", "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const MODELS = { "2b4t": family("2b4t"), "8b": family("8b") };

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Held {
  allocated: number;
  peakRss: number;
  rssAfter: number;
}

function hold(args: string[]): Held {
  const r = spawnSync(BUN, [join(import.meta.dir, "hold-layers.ts"), ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`hold-layers ${args.join(" ")} failed (exit ${r.status ?? r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split("\n").at(-1)!) as Held;
}

/** k contiguous ranges of n layers, as even as can be (the first ones a layer longer). */
function split(n: number, k: number): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (let i = 0; i < k; i++) {
    const len = Math.floor(n / k) + (i < n % k ? 1 : 0);
    out.push([at, at + len]);
    at += len;
  }
  return out;
}

const cacheDir = join(process.env.ARIA_CACHE_DIR ?? join(homedir(), ".cache", "aria"), "bench");
mkdirSync(cacheDir, { recursive: true });
const models = (option("--models") ?? "2b4t,8b").split(",") as (keyof typeof MODELS)[];
const splits = (option("--splits") ?? "1,2,3,4").split(",").map(Number);
const cpu = cpus()[0]?.model ?? "unknown CPU";
console.log(`memory: ${cpu}, ${cpus().length} logical CPUs`);

const idleRuns = [hold(["idle"]), hold(["idle"]), hold(["idle"])];
const idle = idleRuns.map((r) => r.peakRss).sort((a, b) => a - b)[1]!;
console.log(`idle process (Bun, agent modules, native library): peak RSS ${(idle / MiB).toFixed(1)} MiB`);

const results: Record<string, unknown>[] = [];
let allMet = true;
for (const key of models) {
  const layout = MODELS[key];
  if (!layout) throw new Error(`unknown model ${key} (2b4t, 8b)`);
  const t0 = performance.now();
  const path = ensureFamilyModel(cacheDir, key);
  if (performance.now() - t0 > 1000) console.log(`wrote ${path} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const footprint = footprintOf((await readGgufHeaderFile(path)).file, "q8_0");
  const n = footprint.nLayers;
  console.log(`\n${layout.model} shape (${n} layers, I2_S, Q8_0 head):`);
  console.log("| split | stage | layers | layer bytes | ends     | held (library) | peak − idle | after − idle | target   | met |");
  console.log("| ----- | ----- | ------ | ----------- | -------- | -------------- | ----------- | ------------ | -------- | --- |");
  for (const k of splits) {
    for (const [stage, [b, e]] of split(n, k).entries()) {
      const layers = footprint.layerBytes.slice(b, e).reduce((s, x) => s + x, 0);
      const ends = rangeBytes(footprint, { layerBegin: b, layerEnd: e }) - layers;
      const h = hold([path, String(b), String(e), cacheDir]);
      const target = layers + ends + ALLOWANCE;
      const peak = h.peakRss - idle;
      const after = h.rssAfter - idle;
      const met = peak <= target && after <= target;
      allMet &&= met;
      const mib = (x: number) => `${(x / MiB).toFixed(1)} MiB`;
      console.log(
        `| 1/${k}   | ${stage}     | ${b}-${e - 1}`.padEnd(30) +
          `| ${mib(layers).padEnd(11)} | ${mib(ends).padEnd(8)} | ${mib(h.allocated).padEnd(14)} | ${mib(peak).padEnd(11)} | ${mib(after).padEnd(12)} | ${mib(target).padEnd(8)} | ${met ? "yes" : "NO"} |`,
      );
      results.push({
        model: layout.model,
        split: k,
        stage,
        layers: [b, e],
        layer_bytes: layers,
        end_bytes: ends,
        allocated: h.allocated,
        peak_rss: h.peakRss,
        rss_after: h.rssAfter,
        idle_rss: idle,
        target_bytes: target,
        met,
      });
    }
  }
}
console.log(`\nmemory: every stage within its layers + ends + 64 MiB above idle: ${allMet ? "yes" : "NO"}`);
const out = option("--out");
if (out) writeFileSync(out, `${JSON.stringify({ machine: cpu, idle_rss: idle, allowance_bytes: ALLOWANCE, results }, null, 2)}\n`);
if (!allMet) process.exitCode = 1;
