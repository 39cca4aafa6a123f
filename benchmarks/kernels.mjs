// The kernel benchmark: ARIA's native engine against llama.cpp (node-llama-cpp's prebuilt CPU
// build) on the same synthetic 2B-4T-shaped TQ2_0 file, ARIA alone on its I2_S twin, and both
// against the memory-bandwidth roofline of this machine. See benchmarks/README.md.
//
//   npm run bench -- kernels [--out FILE] [--repeats N] [--shape 2b4t|small] [--skip-llama]
//
// Steps, all in one run: generate (once, cached) the two model files; measure read bandwidth with
// benchmarks/kernels/stream.c compiled by the system cc; then, in each of --repeats rounds, time
// ARIA (a Bun script over bun:ffi) on each file and llama.cpp (a Node script) on the TQ2_0 file;
// keep each figure's best round; write JSON and print a table.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cacheDir, cpuInfo, gitCommit, lastJsonLine, ROOT, runChild, UsageError } from "./common.mjs";
import { runBitnetCpp } from "./kernels/bitnet-cpp.mjs";
import { LLAMA_VARIANT, llamaCommandFor } from "./kernels/llama-cpu-variant.mjs";

const HERE = join(ROOT, "benchmarks", "kernels");
const BUN = join(ROOT, "node_modules", ".bin", "bun");

export const usage = `usage: npm run bench -- kernels [options]
  --out FILE            write the JSON results there (the table is printed either way)
  --repeats N           rounds; each figure is its best round (default 3)
  --decode-tokens N     timed decode steps per run (default 64)
  --shape 2b4t|small    model shape (default 2b4t; small = a quick end-to-end check)
  --skip-llama          ARIA and bandwidth only
  --bitnet-cpp DIR      also bitnet.cpp's llama-bench from this build dir, on the I2_S file
  --cpu avx2|avxvnni    cap ARIA (ARIA_CPU) and llama.cpp (its ggml CPU variant of the same ISA) to
                        one SIMD tier: avx2 is the tier most PCs have`;

const THREADS = [1, 2];
const BATCH_THREADS = 2;
const PREFILL_TOKENS = 128;
const DECODE_PROMPT_TOKENS = 8;
const BATCH_PROMPT_TOKENS = [5, 6, 7, 8];
const STREAM_MIB = 1024;
const STREAM_PASSES = 10;

/** Deterministic prompt ids: BOS then pseudo-random ordinary tokens (never special ones). */
function prompt(length, seed, nVocab) {
  const bos = nVocab - 256;
  const ids = [bos];
  let x = seed >>> 0;
  while (ids.length < length) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    ids.push(256 + (x % (bos - 256)));
  }
  return ids;
}

/** ARIA_CPU_* bits (kernels/include/aria.h) as names; unknown bits as bitN. */
const CPU_FEATURES = ["AVX2", "FMA", "F16C", "NEON", "AVXVNNI", "AVX512VNNI"];
/** aria_cpu_features() bits as names (docs/kernels-abi.md). */
export function featureNames(bits) {
  const names = [];
  for (let b = 0; b < 32; b++) if (bits & (1 << b)) names.push(CPU_FEATURES[b] ?? `bit${b}`);
  return names;
}

function firstLine(command, args) {
  const r = spawnSync(command, args, { encoding: "utf8" });
  return r.status === 0 ? (r.stdout || r.stderr).split("\n")[0].trim() : undefined;
}

function machine(cc) {
  const { model, flags } = cpuInfo();
  const nlc = JSON.parse(readFileSync(join(ROOT, "node_modules", "node-llama-cpp", "package.json"), "utf8"));
  const release = join(ROOT, "node_modules", "node-llama-cpp", "llama", "binariesGithubRelease.json");
  const git = gitCommit();
  return {
    cpu: model,
    logical_cpus: os.availableParallelism(),
    cpu_flags: ["avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512_vnni", "avx512vl"].filter((f) => flags.has(f)),
    memory_gb: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    bun: firstLine(BUN, ["--version"]),
    cc: firstLine(cc, ["--version"]),
    node_llama_cpp: nlc.version,
    llama_cpp_binaries: existsSync(release) ? JSON.parse(readFileSync(release, "utf8")).release : undefined,
    aria_commit: `${git.hash}${git.dirty ? " (uncommitted changes)" : ""}`,
    date: new Date().toISOString(),
  };
}

/** Bytes one forward pass of `tokens` rows reads: all weights once, the head once, one embedding row per token. */
function passBytes(bytes, head, tokens) {
  return bytes.bitlinear + bytes.norms + (head === "q8_0" ? bytes.headQ8_0 : bytes.headF16) + tokens * bytes.embeddingRow;
}

const TOKENS_PER_PASS = { decode: 1, decode_batch4: BATCH_PROMPT_TOKENS.length, prefill: PREFILL_TOKENS };

function roofline(bytes, head, mode, bandwidth) {
  const tokens = TOKENS_PER_PASS[mode];
  return (tokens * bandwidth * 1e9) / passBytes(bytes, head, tokens);
}

function fmt(x, digits = 1) {
  return x === undefined || x === null || Number.isNaN(x) ? "—" : x.toFixed(digits);
}

/**
 * Each ARIA row's peer in the same run, like for like: the same file format, head type, mode and
 * thread count — bitnet.cpp on I2_S, llama.cpp on TQ2_0. A row without one gets no ratio.
 */
function peerOf(results, r) {
  if (r.system !== "aria") return undefined;
  const system = r.format === "i2_s" ? "bitnet.cpp" : "llama.cpp";
  return results.find(
    (p) => p.system === system && p.format === r.format && p.head === r.head && p.mode === r.mode && p.threads === r.threads,
  );
}

function table(results) {
  const head = ["system", "format", "head", "mode", "thr", "tok/s", "roofline", "% roofline", "aria / peer"];
  const lines = results.map((r) => {
    const peer = peerOf(results, r);
    return [
      r.system,
      r.format,
      r.head,
      r.mode,
      String(r.threads),
      fmt(r.tokens_per_s, 2),
      fmt(r.roofline_tokens_per_s, 1),
      `${fmt((100 * r.tokens_per_s) / r.roofline_tokens_per_s, 0)} %`,
      peer ? `${fmt(r.tokens_per_s / peer.tokens_per_s, 2)}× ${peer.system}` : "",
    ];
  });
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const show = (cells) => cells.map((c, i) => (i >= 4 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ");
  return [show(head), widths.map((w) => "-".repeat(w)).join("  "), ...lines.map(show)].join("\n");
}

export async function run(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        out: { type: "string" },
        repeats: { type: "string", default: "3" },
        "decode-tokens": { type: "string", default: "64" },
        shape: { type: "string", default: "2b4t" },
        "skip-llama": { type: "boolean", default: false },
        "bitnet-cpp": { type: "string" },
        cpu: { type: "string" },
      },
    }));
  } catch (e) {
    throw new UsageError(e.message);
  }
  const repeats = Number(values.repeats);
  const decodeTokens = Number(values["decode-tokens"]);
  if (!(repeats >= 1) || !(decodeTokens >= 1) || !["2b4t", "small"].includes(values.shape)) throw new UsageError("bad option value");
  if (values.cpu !== undefined && !["avx2", "avxvnni", "scalar"].includes(values.cpu))
    throw new UsageError("--cpu is avx2, avxvnni or scalar");
  // The cap goes to every ARIA child through the environment (docs/kernels-abi.md, "Forcing a tier").
  if (values.cpu) process.env.ARIA_CPU = values.cpu;
  else delete process.env.ARIA_CPU;

  const lib = process.env.ARIA_KERNELS_LIB || join(ROOT, "kernels", "build", `${process.platform}-${process.arch}`, "libaria.so");
  if (!existsSync(lib)) throw new Error(`${lib} is missing: build the kernels first (npm run kernels)`);
  const cc = process.env.CC || "cc";
  const dir = join(cacheDir(process.env), "bench");
  mkdirSync(dir, { recursive: true });
  const loadStart = os.loadavg();
  if (loadStart[0] > 0.5) console.error(`note: load average ${loadStart[0].toFixed(2)}; figures are best measured on a quiet machine`);

  console.error("▶ models (generated once, cached in", dir, ")");
  const models = lastJsonLine(
    await runChild(BUN, [join(HERE, "synthetic-model.ts"), dir, values.shape], "model generation"),
    "model generation",
  );

  console.error("▶ read bandwidth (stream.c)");
  const streamBin = join(dir, "stream");
  const built = spawnSync(cc, ["-O3", "-march=native", "-pthread", "-o", streamBin, join(HERE, "stream.c")], { encoding: "utf8" });
  if (built.status !== 0) throw new Error(`cannot compile stream.c with ${cc}: ${built.stderr || built.error?.message}`);
  const stream = lastJsonLine(
    await runChild(streamBin, [String(STREAM_MIB), String(STREAM_PASSES), String(Math.max(...THREADS))], "stream"),
    "stream",
  );
  const bandwidth = Math.max(...Object.values(stream.gb_s));

  const nVocab = models.tq2_0.nVocab;
  const base = {
    lib,
    threads: THREADS,
    repeats: 1,
    decodePrompt: prompt(DECODE_PROMPT_TOKENS, 1, nVocab),
    decodeTokens,
    prefillPrompt: prompt(PREFILL_TOKENS, 2, nVocab),
    batchPrompts: BATCH_PROMPT_TOKENS.map((n, i) => prompt(n, 10 + i, nVocab)),
    batchThreads: BATCH_THREADS,
  };
  const requestFor = (format, head = undefined, model = models[format].path) => {
    const path = join(dir, `request-${format}${head ? `-${head}` : ""}.json`);
    writeFileSync(path, JSON.stringify({ ...base, model, format, head }));
    return path;
  };
  // llama.cpp reads its output head as the file stores it: the F16 file, and its twin whose tied
  // embedding/head is Q8_0 (ARIA's default head type), so each ARIA head has a like-for-like peer.
  const llamaRuns = [];
  if (!values["skip-llama"]) {
    console.error("▶ the TQ2_0 file's Q8_0-head twin for llama.cpp (written once)");
    const twin = lastJsonLine(
      await runChild(
        BUN,
        [join(HERE, "q8-head-twin.ts"), models.tq2_0.path, models.tq2_0.path.replace(/\.gguf$/, "-q8head.gguf")],
        "Q8_0-head twin",
      ),
      "Q8_0-head twin",
    );
    const runner = values.cpu
      ? llamaCommandFor(ROOT, dir, LLAMA_VARIANT[values.cpu])
      : { command: process.execPath, args: [join(HERE, "llama.mjs")] };
    llamaRuns.push({ runner, request: requestFor("tq2_0", "f16"), what: "f16 head" });
    llamaRuns.push({ runner, request: requestFor("tq2_0", "q8_0", twin.path), what: "q8_0 head (twin file)" });
  }

  // Rounds rather than back-to-back repeats: on a shared machine a burst of other work then spoils
  // one round of a figure, not all of its tries. Each figure is the best round; all are kept.
  const byKey = new Map();
  const errors = [];
  const ariaInfo = {};
  let llamaInfo;
  let bitnetInfo;
  const record = (row) => {
    const key = [row.system, row.format, row.head, row.mode, row.threads].join("/");
    const seen = byKey.get(key);
    if (!seen) byKey.set(key, { ...row, runs: [row.tokens_per_s] });
    else {
      seen.runs.push(row.tokens_per_s);
      if (row.tokens_per_s > seen.tokens_per_s) Object.assign(seen, { ...row, runs: seen.runs });
    }
  };
  for (let round = 1; round <= repeats; round++) {
    for (const format of ["tq2_0", "i2_s"]) {
      console.error(`▶ round ${round}/${repeats}: aria on ${format}`);
      try {
        const out = lastJsonLine(await runChild(BUN, [join(HERE, "aria.ts"), requestFor(format)], `aria (${format})`), "aria");
        ariaInfo[format] = { cpu_features: featureNames(out.cpu_features), memory: out.memory };
        out.rows.forEach(record);
      } catch (e) {
        errors.push(e.message);
        console.error(e.message);
      }
    }
    if (values["bitnet-cpp"]) {
      console.error(`▶ round ${round}/${repeats}: bitnet.cpp on i2_s`);
      try {
        const out = runBitnetCpp(values["bitnet-cpp"], models.i2_s.path, THREADS, {
          prefillTokens: PREFILL_TOKENS,
          decodeTokens,
          repeats: 1,
        });
        bitnetInfo = out.info;
        out.rows.forEach(record);
      } catch (e) {
        errors.push(e.message);
        console.error(e.message);
      }
    }
    for (const { runner, request, what } of llamaRuns) {
      console.error(`▶ round ${round}/${repeats}: llama.cpp on tq2_0, ${what}`);
      try {
        const out = lastJsonLine(await runChild(runner.command, [...runner.args, request], "llama.cpp"), "llama.cpp");
        llamaInfo = out.info;
        out.rows.forEach(record);
      } catch (e) {
        errors.push(e.message);
        console.error(e.message);
      }
    }
  }
  const rows = [...byKey.values()];

  // Each row's roofline uses the bandwidth its thread count can draw (one core cannot saturate the
  // memory system on most machines).
  const results = rows.map((r) => ({
    ...r,
    roofline_tokens_per_s: roofline(models[r.format].bytes, r.head, r.mode, stream.gb_s[String(r.threads)] ?? bandwidth),
  }));
  const report = {
    machine: {
      ...machine(cc),
      load_average_start: loadStart,
      load_average_end: os.loadavg(),
      aria: { ...ariaInfo, cpu_cap: values.cpu ?? null },
      llama_cpp: llamaInfo,
      bitnet_cpp: bitnetInfo,
    },
    bandwidth_gb_s: bandwidth,
    bandwidth_by_threads_gb_s: stream.gb_s,
    bytes_per_token: Object.fromEntries(Object.entries(models).map(([f, m]) => [f, m.bytes])),
    roofline_note:
      "roofline = tokens per pass × bandwidth at the row's thread count / bytes per pass; a pass reads every BitLinear weight and norm once, the head once (F16 or Q8_0) and one embedding row per token; KV-cache reads are not counted",
    settings: {
      shape: values.shape,
      repeats,
      decode_tokens: decodeTokens,
      prefill_tokens: PREFILL_TOKENS,
      decode_prompt_tokens: DECODE_PROMPT_TOKENS,
    },
    errors,
    results,
  };
  console.log(
    `\nbandwidth ${bandwidth.toFixed(1)} GB/s (${Object.entries(stream.gb_s)
      .map(([t, v]) => `${t} thr ${v.toFixed(1)}`)
      .join(", ")})\n`,
  );
  console.log(table(results));
  if (values.out) {
    const out = resolve(process.env.INIT_CWD ?? process.cwd(), values.out);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`\nwrote ${out}`);
  }
  if (errors.length > 0) throw new Error(`${errors.length} part(s) failed: ${errors.join("; ")}`);
}
