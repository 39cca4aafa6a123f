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
import type { Pointer } from "bun:ffi";
import { readFileSync } from "node:fs";
import { openAriaLibrary } from "../../agent/src/kernels/ffi.ts";

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
  head: "q8_0" | "f16";
  threads: number;
  mode: "decode" | "prefill" | "decode_batch4";
  tokens_per_s: number;
}

const ERR_LEN = 512;
const HEAD = { f16: 0, q8_0: 1 } as const; // ARIA_HEAD_AS_IS, ARIA_HEAD_Q8_0
/** KV cache per sequence (capped by the model's context): prompt + warm-up + decoded tokens fit. */
const N_CTX = 512;
const WARMUP_STEPS = 4;

const request = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Request;

function cString(s: string): Uint8Array {
  return new TextEncoder().encode(`${s}\0`);
}
function errText(buf: Uint8Array): string {
  const end = buf.indexOf(0);
  return new TextDecoder().decode(buf.subarray(0, end < 0 ? buf.length : end));
}
function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}
function best(runs: number, once: () => number): number {
  let top = 0;
  for (let r = 0; r < runs; r++) top = Math.max(top, once());
  return top;
}

const lib = openAriaLibrary(request.lib);
const C = lib.symbols;

function check(status: number, what: string): void {
  if (status !== 0) throw new Error(`${what}: ${String(C.aria_status_name(status))}`);
}

function outPointer(buf: BigUint64Array): Pointer {
  return Number(buf[0]) as Pointer;
}

function loadModel(head: keyof typeof HEAD): Pointer {
  const out = new BigUint64Array(1);
  const err = new Uint8Array(ERR_LEN);
  const status = C.aria_model_load_ex(cString(request.model), HEAD[head], out, err, ERR_LEN);
  if (status !== 0) throw new Error(`loading ${request.model}: ${errText(err) || String(C.aria_status_name(status))}`);
  return outPointer(out);
}

function modelInfo(model: Pointer): { nVocab: number; nEmbd: number; nLayer: number; nCtx: number } {
  const slots = new Int32Array(10);
  check(C.aria_model_info(model, slots, slots.length), "aria_model_info");
  return { nVocab: slots[0]!, nEmbd: slots[1]!, nLayer: slots[2]!, nCtx: Math.min(N_CTX, slots[7]!) };
}

/** All rows for one model (one head type). */
function measure(model: Pointer, head: keyof typeof HEAD): AriaRow[] {
  const { nVocab, nEmbd, nLayer, nCtx } = modelInfo(model);
  const rows: AriaRow[] = [];
  const row = (threads: number, mode: AriaRow["mode"], tokensPerS: number) =>
    rows.push({ system: "aria", format: request.format, head, threads, mode, tokens_per_s: tokensPerS });
  const maxRows = Math.max(request.prefillPrompt.length, request.batchPrompts.length, request.decodePrompt.length);
  const hidden = new Float32Array(maxRows * nEmbd);
  const logits = new Float32Array(request.batchPrompts.length * nVocab);
  const ids = new Int32Array(maxRows);
  const seqs = new Int32Array(maxRows);
  const pos = new Int32Array(maxRows);

  for (const threads of [...new Set([...request.threads, request.batchThreads])].sort()) {
    const poolOut = new BigUint64Array(1);
    check(C.aria_pool_create(threads, poolOut), "aria_pool_create");
    const pool = outPointer(poolOut);
    const shardOut = new BigUint64Array(1);
    const err = new Uint8Array(ERR_LEN);
    const st = C.aria_shard_create(model, 0, nLayer, request.batchPrompts.length, shardOut, err, ERR_LEN);
    if (st !== 0) throw new Error(`aria_shard_create: ${errText(err)}`);
    const shard = outPointer(shardOut);
    const open: number[] = [];
    const seqOut = new Int32Array(1);
    for (let i = 0; i < request.batchPrompts.length; i++) {
      check(C.aria_seq_open(shard, nCtx, seqOut), "aria_seq_open");
      open.push(seqOut[0]!);
    }

    /** Runs n rows (ids/seqs/pos already filled) and the logits of the last `nLogits` rows. */
    const step = (n: number, nLogits: number): void => {
      check(C.aria_embed(model, ids, n, hidden), "aria_embed");
      check(C.aria_shard_forward(shard, pool, n, seqs, pos, hidden, hidden), "aria_shard_forward");
      check(C.aria_logits_mt(model, pool, hidden.subarray((n - nLogits) * nEmbd), nLogits, logits), "aria_logits_mt");
    };
    const prefill = (seq: number, prompt: number[]): void => {
      check(C.aria_seq_truncate(shard, seq, 0), "aria_seq_truncate");
      prompt.forEach((t, i) => {
        ids[i] = t;
        seqs[i] = seq;
        pos[i] = i;
      });
      step(prompt.length, 1);
    };

    if (request.threads.includes(threads)) {
      // decode: a short prompt, a few untimed steps, then decodeTokens timed steps.
      const seq = open[0]!;
      row(
        threads,
        "decode",
        best(request.repeats, () => {
          prefill(seq, request.decodePrompt);
          let next = argmax(logits.subarray(0, nVocab));
          let p = request.decodePrompt.length;
          let elapsed = 0;
          for (let i = 0; i < WARMUP_STEPS + request.decodeTokens; i++) {
            ids[0] = next;
            seqs[0] = seq;
            pos[0] = p++;
            const t0 = performance.now();
            step(1, 1);
            if (i >= WARMUP_STEPS) elapsed += performance.now() - t0;
            next = argmax(logits.subarray(0, nVocab));
          }
          return (request.decodeTokens * 1000) / elapsed;
        }),
      );
      // prefill: the whole prompt in one call, logits of the last row.
      row(
        threads,
        "prefill",
        best(request.repeats, () => {
          const t0 = performance.now();
          prefill(seq, request.prefillPrompt);
          return (request.prefillPrompt.length * 1000) / (performance.now() - t0);
        }),
      );
    }
    if (threads === request.batchThreads) {
      const n = request.batchPrompts.length;
      row(
        threads,
        "decode_batch4",
        best(request.repeats, () => {
          const next: number[] = [];
          const at: number[] = [];
          request.batchPrompts.forEach((prompt, i) => {
            prefill(open[i]!, prompt);
            next.push(argmax(logits.subarray(0, nVocab)));
            at.push(prompt.length);
          });
          let elapsed = 0;
          for (let s = 0; s < WARMUP_STEPS + request.decodeTokens; s++) {
            for (let i = 0; i < n; i++) {
              ids[i] = next[i]!;
              seqs[i] = open[i]!;
              pos[i] = at[i]!++;
            }
            const t0 = performance.now();
            step(n, n);
            if (s >= WARMUP_STEPS) elapsed += performance.now() - t0;
            for (let i = 0; i < n; i++) next[i] = argmax(logits.subarray(i * nVocab, (i + 1) * nVocab));
          }
          return (n * request.decodeTokens * 1000) / elapsed;
        }),
      );
    }
    for (const seq of open) check(C.aria_seq_close(shard, seq), "aria_seq_close");
    C.aria_shard_free(shard);
    C.aria_pool_free(pool);
  }
  return rows;
}

const rows: AriaRow[] = [];
const memory: Record<string, { mapped: number; allocated: number }> = {};
for (const head of ["q8_0", "f16"] as const) {
  const model = loadModel(head);
  try {
    const mapped = new BigUint64Array(1);
    const allocated = new BigUint64Array(1);
    check(C.aria_model_memory(model, mapped, allocated), "aria_model_memory");
    memory[head] = { mapped: Number(mapped[0]), allocated: Number(allocated[0]) };
    rows.push(...measure(model, head));
  } finally {
    C.aria_model_free(model);
  }
}
process.stdout.write(`${JSON.stringify({ cpu_features: C.aria_cpu_features(), memory, rows })}\n`);
lib.close();
