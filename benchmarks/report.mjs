// The benchmark report: the predecessor's published tables measured again on this machine, with
// SVG charts, written to benchmarks/results/<machine>/report.md (see benchmarks/README.md).
//
//   npm run bench -- report [--cpu avx2] [--quick] [--out-dir DIR]
//
// Each model file is measured in its own Bun process (benchmarks/report/measure.ts) so that its
// peak RSS is the model's: the three shapes of the predecessor's table (bitnet_b1_58-large,
// 2B-4T, Llama3-8B-1.58: published layouts, random ternary weights, I2_S, Q8_0 head), thread
// scaling, 1-8 streams decoded together and context 32-1024 on 2B-4T, and peak memory per format
// (the kernel benchmark's I2_S and TQ2_0 2B-4T files, each head).
import { existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cacheDir, cpuInfo, gitCommit, lastJsonLine, ROOT, runChild, UsageError } from "./common.mjs";
import { featureNames } from "./kernels.mjs";
import { renderReport } from "./report/render.mjs";

const BUN = join(ROOT, "node_modules", ".bin", "bun");

export const usage = `usage: npm run bench -- report [options]
  --cpu avx2|avxvnni|scalar  cap ARIA's SIMD tier (ARIA_CPU); the report names the tier it ran
  --quick                    tiny shapes and few tokens: checks the harness in seconds
  --out-dir DIR              where report.md and its charts go
                             (default benchmarks/results/<machine>[-<cpu>])`;

/** Runs a child that prints one JSON line; returns it parsed. */
async function runJson(command, args, what) {
  return lastJsonLine(await runChild(command, args, what), what);
}

/** "intel-xeon-processor-2cpu": the CPU model and logical CPU count, as a directory name. */
function machineSlug(cpu, n) {
  const base = cpu
    .toLowerCase()
    .replace(/\(r\)|\(tm\)|cpu|@.*$/g, " ")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "");
  return `${base}-${n}cpu`;
}

function machine() {
  const { model, flags } = cpuInfo();
  const git = gitCommit();
  return {
    cpu: model,
    logical_cpus: os.availableParallelism(),
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    simd: ["avx2", "fma", "f16c", "avx_vnni", "avx512f", "avx512bw", "avx512_vnni", "asimd", "asimddp"].filter((f) => flags.has(f)),
    os: `${os.type()} ${os.release()}`,
    commit: git.hash ? `${git.hash}${git.dirty ? "+changes" : ""}` : undefined,
  };
}

export async function run(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { cpu: { type: "string" }, quick: { type: "boolean", default: false }, "out-dir": { type: "string" } },
    }));
  } catch (e) {
    throw new UsageError(e.message);
  }
  if (values.cpu !== undefined && !["avx2", "avxvnni", "scalar"].includes(values.cpu))
    throw new UsageError("--cpu is avx2, avxvnni or scalar");
  if (values.cpu) process.env.ARIA_CPU = values.cpu;
  else delete process.env.ARIA_CPU;
  const quick = values.quick;
  const lib = process.env.ARIA_KERNELS_LIB || join(ROOT, "kernels", "build", `${process.platform}-${process.arch}`, "libaria.so");
  if (!existsSync(lib)) throw new Error(`${lib} is missing: build the kernels first (npm run kernels)`);
  const info = machine();
  const dir = join(cacheDir(process.env), "bench");
  mkdirSync(dir, { recursive: true });
  const outDir = values["out-dir"]
    ? resolve(process.env.INIT_CWD ?? process.cwd(), values["out-dir"])
    : join(ROOT, "benchmarks", "results", `${machineSlug(info.cpu, info.logical_cpus)}${values.cpu ? `-${values.cpu}` : ""}`);
  const loadStart = os.loadavg();
  const started = Date.now();

  console.error("▶ model files (generated once, cached in", dir, ")");
  const families = await runJson(
    BUN,
    [join(ROOT, "benchmarks", "family-models.ts"), dir, "large,2b4t,8b", ...(quick ? ["--small"] : [])],
    "family models",
  );
  const pair = await runJson(
    BUN,
    [join(ROOT, "benchmarks", "kernels", "synthetic-model.ts"), dir, quick ? "small" : "2b4t"],
    "synthetic pair",
  );

  const all = os.availableParallelism();
  const threads = [...new Set([1, ...Array.from({ length: all }, (_, i) => i + 1).filter((t) => t === all || t % 2 === 0)])];
  const plan = {
    shapes: ["large", "2b4t", "8b"],
    threads,
    streams: [1, 2, 3, 4, 8],
    context: quick ? [32, 64, 128] : [32, 64, 128, 256, 512, 1024],
    decodeTokens: quick ? 4 : 16,
    decodeTokens8b: quick ? 4 : 8,
    prefillTokens: quick ? 16 : 128,
    prefillTokens8b: quick ? 16 : 64,
    streamSteps: quick ? 2 : 16,
    contextSteps: quick ? 2 : 16,
  };
  const measure = async (request, what) => {
    const path = join(dir, `report-request-${what}.json`);
    writeFileSync(path, JSON.stringify({ lib, ...request }));
    console.error(`▶ ${what}`);
    return runJson(BUN, [join(ROOT, "benchmarks", "report", "measure.ts"), path], what);
  };

  const shapes = {};
  for (const key of plan.shapes) {
    const big = key === "8b";
    shapes[key] = await measure(
      {
        model: families[key],
        head: "q8_0",
        threads: big ? [1, all] : threads,
        decodeTokens: big ? plan.decodeTokens8b : plan.decodeTokens,
        prefillTokens: big ? plan.prefillTokens8b : plan.prefillTokens,
        ...(key === "2b4t"
          ? {
              streams: { threads: all, counts: plan.streams, steps: plan.streamSteps },
              context: { threads: all, lengths: plan.context, steps: plan.contextSteps },
            }
          : {}),
      },
      `shape-${key}`,
    );
  }
  const formats = [];
  for (const format of ["i2_s", "tq2_0"]) {
    for (const head of ["q8_0", "f16"]) {
      const out = await measure(
        { model: pair[format].path, head, threads: [all], decodeTokens: 8, prefillTokens: quick ? 16 : 64 },
        `memory-${format}-${head}`,
      );
      formats.push({ format, head, file_bytes: statSync(pair[format].path).size, ...out });
    }
  }

  const report = {
    machine: {
      ...info,
      cpu_cap: values.cpu ?? null,
      aria_features: featureNames(shapes["2b4t"].cpu_features),
      load_average_start: loadStart,
      load_average_end: os.loadavg(),
    },
    date: new Date(started).toISOString().slice(0, 10),
    minutes: (Date.now() - started) / 60000,
    command: `npm run bench -- report${values.cpu ? ` --cpu ${values.cpu}` : ""}${quick ? " --quick" : ""}`,
    quick,
    plan,
    shapes,
    formats,
  };
  mkdirSync(outDir, { recursive: true });
  const { markdown, charts } = renderReport(report);
  for (const [name, svg] of Object.entries(charts)) writeFileSync(join(outDir, name), svg);
  writeFileSync(join(outDir, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(join(outDir, "report.md"), markdown);
  console.log(markdown);
  console.log(
    `wrote ${relative(process.cwd(), join(outDir, "report.md")) || join(outDir, "report.md")} and ${Object.keys(charts).length} charts`,
  );
}
