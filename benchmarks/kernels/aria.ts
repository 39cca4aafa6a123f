/**
 * The ARIA side of the kernel benchmark: times libaria's C calls directly through bun:ffi (the raw
 * table, so no wrapper allocations are timed) on one GGUF file.
 *
 *   bun benchmarks/kernels/aria.ts REQUEST.json      -> one JSON object on stdout
 *
 * REQUEST: { model, format, lib, threads: [1, 2], repeats, decodePrompt: [ids], decodeTokens,
 *            prefillPrompt: [ids], batchPrompts: [[ids] × 4], batchThreads }
 *
 * It uses the engine API (aria_model_load_ex, aria_pool_*, aria_shard_*, aria_seq_*, aria_logits_mt)
 * and measures every row twice: with the output head requantized to Q8_0 (the engine's default) and
 * with the file's F16 head.
 *
 * What is timed: per decode step, embedding + all layers + logits of the new row (greedy argmax is
 * not timed, as llama.cpp's perf counters do not time sampling); for prefill, the whole prompt in
 * one batched call + the logits of its last row. Each figure is the best of `repeats` runs.
 */
import { readFileSync } from "node:fs";
import { argmax, type HeadKind, Library, Model, Runner } from "./engine.ts";

interface Request {
  model: string;
  format: string;
  lib: string;
  threads: number[];
  repeats: number;
  decodePrompt: number[];
  decodeTokens: number;
  prefillPrompt: number[];
  batchPrompts: number[][];
  batchThreads: number;
}

export interface AriaRow {
  system: "aria";
  format: string;
  head: HeadKind;
  threads: number;
  mode: "decode" | "prefill" | "decode_batch4";
  tokens_per_s: number;
}

/** KV cache per sequence (capped by the model's context): prompt + warm-up + decoded tokens fit. */
const N_CTX = 512;
const WARMUP_STEPS = 4;

const request = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Request;

function best(runs: number, once: () => number): number {
  let top = 0;
  for (let r = 0; r < runs; r++) top = Math.max(top, once());
  return top;
}

/** Every sequence in `seqs` decoded together for decodeTokens timed steps; aggregate tok/s. */
function decodeTogether(r: Runner, seqs: number[], prompts: number[][]): number {
  const next = seqs.map((seq, i) => r.prefill(seq, prompts[i]!));
  const at = prompts.map((p) => p.length);
  let elapsed = 0;
  for (let s = 0; s < WARMUP_STEPS + request.decodeTokens; s++) {
    const rows = seqs.map((seq, i) => ({ id: next[i]!, seq, pos: at[i]!++ }));
    const t0 = performance.now();
    r.run(rows, rows.length);
    if (s >= WARMUP_STEPS) elapsed += performance.now() - t0;
    for (let i = 0; i < seqs.length; i++) next[i] = argmax(r.logitsOf(i));
  }
  return (seqs.length * request.decodeTokens * 1000) / elapsed;
}

/** All rows for one model (one head type). */
function measure(model: Model, head: HeadKind): AriaRow[] {
  const nCtx = Math.min(N_CTX, model.info.nCtxTrain);
  const rows: AriaRow[] = [];
  const row = (threads: number, mode: AriaRow["mode"], tokensPerS: number) =>
    rows.push({ system: "aria", format: request.format, head, threads, mode, tokens_per_s: tokensPerS });
  const maxRows = Math.max(request.prefillPrompt.length, request.batchPrompts.length, request.decodePrompt.length);
  for (const threads of [...new Set([...request.threads, request.batchThreads])].sort()) {
    const r = new Runner(model, threads, request.batchPrompts.length, nCtx, maxRows);
    try {
      if (request.threads.includes(threads)) {
        // decode: a short prompt, a few untimed steps, then decodeTokens timed steps.
        row(
          threads,
          "decode",
          best(request.repeats, () => decodeTogether(r, [r.seqs[0]!], [request.decodePrompt])),
        );
        // prefill: the whole prompt in one call, logits of the last row.
        row(
          threads,
          "prefill",
          best(request.repeats, () => {
            const t0 = performance.now();
            r.prefill(r.seqs[0]!, request.prefillPrompt);
            return (request.prefillPrompt.length * 1000) / (performance.now() - t0);
          }),
        );
      }
      if (threads === request.batchThreads)
        row(
          threads,
          "decode_batch4",
          best(request.repeats, () => decodeTogether(r, r.seqs, request.batchPrompts)),
        );
    } finally {
      r.free();
    }
  }
  return rows;
}

const L = new Library(request.lib);
const rows: AriaRow[] = [];
const memory: Record<string, { mapped: number; allocated: number }> = {};
for (const head of ["q8_0", "f16"] as const) {
  const model = new Model(L, request.model, head);
  try {
    memory[head] = model.memory();
    rows.push(...measure(model, head));
  } finally {
    model.free();
  }
}
process.stdout.write(`${JSON.stringify({ cpu_features: L.C.aria_cpu_features(), memory, rows })}\n`);
L.close();
