/**
 * One agent-like process for the memory benchmark: loads layers [begin, end) of a model the way
 * `aria-agent start` does (header, tokenizer, cached file hash, range load), serves a prompt
 * through them (prefill, then decode steps, logits on the last stage), and prints its memory as
 * JSON: the library's count, peak RSS (VmHWM) and RSS after serving. With `idle`, it only starts
 * (Bun, the agent's modules, the native library): the baseline the others are measured above.
 *
 *   bun benchmarks/memory/hold-layers.ts <model.gguf> <begin> <end> <cache dir> | idle
 */
import { readFileSync } from "node:fs";
import { Kernels } from "../../agent/src/kernels/engine.ts";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { LoadedModel } from "../../agent/src/serve/loaded-model.ts";

const PROMPT = 32;
const DECODE = 16;

function memoryKiB(field: "VmHWM" | "VmRSS"): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
  if (!m) throw new Error(`/proc/self/status has no ${field}`);
  return Number(m[1]);
}

const [path, beginArg, endArg, cacheDir] = process.argv.slice(2);
const kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
if (path === "idle") {
  Bun.gc(true);
  console.log(JSON.stringify({ allocated: 0, peakRss: memoryKiB("VmHWM") * 1024, rssAfter: memoryKiB("VmRSS") * 1024 }));
  process.exit(0);
}
const begin = Number(beginArg);
const end = Number(endArg);
const model = await LoadedModel.load(kernels, "bench", path!, {
  threads: 2,
  head: "q8_0",
  layers: { layerBegin: begin, layerEnd: end },
  hashCacheDir: cacheDir,
});
const { nEmbd, nLayer } = model.native.info;
// What an agent's login announces (computed from the vocabulary).
if (model.maxTokenBytes < 1) throw new Error("no token has bytes");
const session = model.native.createSession(begin, end, PROMPT + DECODE);
const rows = (n: number) =>
  begin === 0
    ? model.native.embed(Array.from({ length: n }, (_, i) => (i * 7919) % 1000))
    : Float32Array.from({ length: n * nEmbd }, (_, i) => Math.sin(i) * 0.5);
let out = session.forward(rows(PROMPT), PROMPT, 0);
if (end === nLayer) model.native.logits(out.subarray((PROMPT - 1) * nEmbd), 1);
for (let t = 0; t < DECODE; t++) {
  out = session.forward(rows(1), 1, PROMPT + t);
  if (end === nLayer) model.native.logits(out, 1);
}
session.close();
Bun.gc(true);
console.log(
  JSON.stringify({ allocated: model.native.memory().allocated, peakRss: memoryKiB("VmHWM") * 1024, rssAfter: memoryKiB("VmRSS") * 1024 }),
);
model.close();
