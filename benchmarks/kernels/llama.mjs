// The llama.cpp side of the kernel benchmark, under Node (node-llama-cpp is a Node addon).
//
//   node benchmarks/kernels/llama.mjs REQUEST.json      -> one JSON object on stdout
//
// REQUEST: the same object benchmarks/kernels/aria.ts reads (model, threads, repeats, prompts …).
//
// Timing comes from llama.cpp's own perf counters (llama_perf_context: `prompt eval time` for
// decode calls with more than one token, `eval time` for one-token calls), which node-llama-cpp
// prints through its logger on context.printTimings() and then resets; we parse those lines. They
// time llama_decode only — not node-llama-cpp's JS scheduling or sampling — so llama.cpp is not
// handicapped by the binding. The prebuilt CPU binary is used (gpu: false, build: "never"), with
// llama.cpp's defaults otherwise (mmap, flash attention "auto", f16 KV cache). maxThreads: 0 makes
// node-llama-cpp use exactly the requested thread count.
import { readFileSync } from "node:fs";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const request = JSON.parse(readFileSync(process.argv[2], "utf8"));
const WARMUP_STEPS = 4;

/** Perf lines printed since the last takeTimings(). */
let perfLines = [];
const llama = await getLlama({
  gpu: false,
  build: "never",
  usePrebuiltBinaries: true,
  progressLogs: false,
  maxThreads: 0,
  logLevel: LlamaLogLevel.info,
  logger: (_level, message) => {
    for (const line of String(message).split("\n")) if (line.includes("llama_perf_context_print")) perfLines.push(line);
  },
});

/** Prints and resets llama.cpp's counters; returns {promptMs, promptTokens, evalMs, evalRuns}. */
async function takeTimings(context) {
  perfLines = [];
  await context.printTimings();
  const pick = (label, unit) => {
    const line = perfLines.find((l) => new RegExp(`print:\\s+${label} time\\s*=`).test(l));
    const m = line?.match(new RegExp(`=\\s*([\\d.]+) ms /\\s*(\\d+) ${unit}`));
    // llama.cpp prints a count of at least 1; an empty counter shows as "0.00 ms / 1".
    return m && Number(m[1]) > 0 ? { ms: Number(m[1]), n: Number(m[2]) } : { ms: 0, n: 0 };
  };
  if (process.env.BENCH_DEBUG) process.stderr.write(`${perfLines.join("\n")}\n`);
  const prompt = pick("prompt eval", "tokens");
  const evals = pick("eval", "runs");
  if (perfLines.length === 0) throw new Error("llama.cpp printed no perf counters");
  return { promptMs: prompt.ms, promptTokens: prompt.n, evalMs: evals.ms, evalRuns: evals.n };
}

async function best(runs, measure) {
  let top = 0;
  for (let r = 0; r < runs; r++) top = Math.max(top, await measure());
  return top;
}

/**
 * Greedy decoding: evaluates `start` and then each yielded token, `count` one-token decodes in all.
 * Returns the last yielded token, which is not evaluated yet.
 */
async function generate(sequence, start, count) {
  let n = 0;
  let last = start;
  for await (const token of sequence.evaluate([start], { temperature: 0, yieldEogToken: true })) {
    last = token;
    if (++n >= count) break;
  }
  return last;
}

const info = { build: llama.buildType, release: llama.llamaCppRelease, system_info: llama.systemInfo };
const model = await llama.loadModel({ modelPath: request.model, gpuLayers: 0 });
const rows = [];
const rowFields = (threads, mode, tokensPerS) => ({
  system: "llama.cpp",
  format: request.format,
  head: request.head ?? "f16", // the file's tied embedding/head type
  threads,
  mode,
  tokens_per_s: tokensPerS,
});
const row = (threads, mode, tokensPerS) => rows.push(rowFields(threads, mode, tokensPerS));
/** A context with `sequences` sequences and exactly `threads` threads, disposed after `use`. */
async function withContext(threads, sequences, use) {
  const context = await model.createContext({
    contextSize: 512 * sequences,
    batchSize: Math.max(512, request.prefillPrompt.length),
    sequences,
    threads: { ideal: threads, min: threads },
    performanceTracking: true,
  });
  try {
    return await use(
      context,
      Array.from({ length: sequences }, () => context.getSequence()),
    );
  } finally {
    await context.dispose();
  }
}

try {
  for (const threads of request.threads) {
    await withContext(threads, 1, async (context, [seq]) => {
      row(
        threads,
        "decode",
        await best(request.repeats, async () => {
          await seq.clearHistory();
          const prompt = request.decodePrompt;
          await seq.evaluateWithoutGeneratingNewTokens(prompt.slice(0, -1));
          const next = await generate(seq, prompt[prompt.length - 1], WARMUP_STEPS);
          await takeTimings(context);
          await generate(seq, next, request.decodeTokens);
          const t = await takeTimings(context);
          return (t.evalRuns * 1000) / t.evalMs;
        }),
      );
      row(
        threads,
        "prefill",
        await best(request.repeats, async () => {
          await seq.clearHistory();
          await takeTimings(context);
          await seq.evaluateWithoutGeneratingNewTokens(request.prefillPrompt);
          const t = await takeTimings(context);
          if (t.promptTokens !== request.prefillPrompt.length) throw new Error(`prefill counted ${t.promptTokens} tokens`);
          return (t.promptTokens * 1000) / t.promptMs;
        }),
      );
    });
  }
  // node-llama-cpp gathers the sequences' pending one-token decodes into one llama_decode batch;
  // every token decoded in the window counts, whichever counter llama.cpp put it in
  // (batched_share: the share of tokens that went through multi-token calls).
  const prompts = request.batchPrompts;
  await withContext(request.batchThreads, prompts.length, async (context, sequences) => {
    let batchedShare = 0;
    const tokensPerS = await best(request.repeats, async () => {
      for (const [i, seq] of sequences.entries()) {
        await seq.clearHistory();
        await seq.evaluateWithoutGeneratingNewTokens(prompts[i].slice(0, -1));
      }
      const next = await Promise.all(sequences.map((seq, i) => generate(seq, prompts[i][prompts[i].length - 1], WARMUP_STEPS)));
      await takeTimings(context);
      await Promise.all(sequences.map((seq, i) => generate(seq, next[i], request.decodeTokens)));
      const t = await takeTimings(context);
      batchedShare = t.promptTokens / (t.promptTokens + t.evalRuns);
      return ((t.promptTokens + t.evalRuns) * 1000) / (t.promptMs + t.evalMs);
    });
    rows.push({ ...rowFields(request.batchThreads, "decode_batch4", tokensPerS), batched_share: batchedShare });
  });
} finally {
  await model.dispose();
  await llama.dispose();
}
process.stdout.write(`${JSON.stringify({ info, rows })}\n`);
