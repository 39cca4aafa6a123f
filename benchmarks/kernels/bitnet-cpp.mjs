// The bitnet.cpp side of the kernel benchmark: its own llama-bench on our I2_S file (the official
// 2B-4T file's format and architecture, F16 head), prefill and decode at each thread count.
//
//   runBitnetCpp(buildDir, modelPath, threads, repeats) -> { info, rows }
//
// llama-bench times llama_decode itself (`-p N`: one N-token batch; `-n N`: N one-token steps after
// an empty context) and reports the mean tokens/s over `-r` repetitions; we keep its figures as
// they are. Build bitnet.cpp with its build.sh (its source beside this project, in
// shared/peers/bitnet.cpp), or with benchmarks/kernels/build-bitnet-cpp.sh for a chosen ISA.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";

export function runBitnetCpp(buildDir, modelPath, threads, { prefillTokens, decodeTokens, repeats }) {
  const bench = join(buildDir, "bin", "llama-bench");
  if (!existsSync(bench)) throw new Error(`bitnet.cpp: ${bench} is missing (build it with its build.sh)`);
  const r = spawnSync(
    bench,
    [
      "-m",
      modelPath,
      "-p",
      String(prefillTokens),
      "-n",
      String(decodeTokens),
      "-t",
      threads.join(","),
      "-r",
      String(repeats),
      "-o",
      "json",
    ],
    { encoding: "utf8", maxBuffer: 16 << 20 },
  );
  if (r.status !== 0)
    throw new Error(`bitnet.cpp llama-bench failed (${r.signal ?? `exit ${r.status}`}): ${(r.stderr || "").slice(-2000)}`);
  let tests;
  try {
    tests = JSON.parse(r.stdout);
  } catch {
    throw new Error(`bitnet.cpp llama-bench printed no JSON: ${r.stdout.slice(0, 500)}`);
  }
  const rows = tests.map((t) => ({
    system: "bitnet.cpp",
    format: "i2_s",
    head: "f16",
    threads: t.n_threads,
    mode: t.n_prompt > 0 ? "prefill" : "decode",
    tokens_per_s: t.avg_ts,
  }));
  const first = tests[0] ?? {};
  return { info: { build_commit: first.build_commit, cpu_info: first.cpu_info, backends: first.backends }, rows };
}
