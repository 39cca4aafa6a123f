/**
 * One model file's figures for the benchmark report (benchmarks/report.mjs), in one process so that
 * its peak RSS is the model's: decode and prefill tok/s per thread count (with the energy of the
 * decode, by the agent's own meter), aggregate tok/s of N sequences decoded together, and decode
 * tok/s at a given context length.
 *
 *   bun benchmarks/report/measure.ts REQUEST.json     -> one JSON object on stdout
 *
 * REQUEST: { lib, model, head: "q8_0" | "f16", threads: [t…], decodeTokens, prefillTokens,
 *            streams?: { threads, counts: [n…], steps }, context?: { threads, lengths: [n…], steps } }
 * Timed: embedding + all layers + logits, as in the kernel benchmark; argmax is not timed.
 */
import { readFileSync } from "node:fs";
import { EnergyMeter } from "../../agent/src/energy/energy-meter.ts";
import { argmax, type HeadKind, Library, Model, Runner } from "../kernels/engine.ts";

interface Request {
  lib: string;
  model: string;
  head: HeadKind;
  threads: number[];
  decodeTokens: number;
  prefillTokens: number;
  streams?: { threads: number; counts: number[]; steps: number };
  context?: { threads: number; lengths: number[]; steps: number };
}

export interface ReportRow {
  kind: "decode" | "prefill" | "streams" | "context";
  threads: number;
  /** streams: sequences decoded together; context: the position decoding starts at. */
  n?: number;
  tokens_per_s: number;
  /** decode only: energy per token by the agent's meter. */
  mj_per_token?: number;
}

const WARMUP_STEPS = 2;
const WINDOWS = 3;
const DECODE_PROMPT = 8;
/** Rows per call when filling a long context, as the agent prefills. */
const PREFILL_CHUNK = 128;
const request = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as Request;

/** Deterministic token ids below nVocab (xorshift; the values only need to be valid ids). */
function tokens(n: number, seed: number, nVocab: number): number[] {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s % nVocab;
  });
}

function peakRss(): number {
  const kb = readFileSync("/proc/self/status", "utf8").match(/^VmHWM:\s+(\d+) kB/m)?.[1];
  return kb ? Number(kb) * 1024 : 0;
}

const L = new Library(request.lib);
const model = new Model(L, request.model, request.head);
const { nVocab } = model.info;
const meter = EnergyMeter.detect();
const rows: ReportRow[] = [];
const maxContext = Math.max(0, ...(request.context?.lengths ?? []));
const longestRun = WARMUP_STEPS + WINDOWS * Math.max(request.decodeTokens, request.context?.steps ?? 0, request.streams?.steps ?? 0);
const nCtx = Math.min(model.info.nCtxTrain, Math.max(256, maxContext + longestRun + 8));

/**
 * One-row decode steps of every sequence in `seqs` together, from `at`: after the warm-up, WINDOWS
 * windows of `steps` steps each; the fastest window's time and energy (a shared machine's bursts
 * of other work spoil a window, not the figure).
 */
function decodeTogether(r: Runner, seqs: number[], first: number[], at: number[], steps: number): { ms: number; mj: number } {
  const next = [...first];
  const pos = [...at];
  let best = { ms: Number.POSITIVE_INFINITY, mj: 0 };
  let window = { ms: 0, mj: 0 };
  for (let s = 0; s < WARMUP_STEPS + WINDOWS * steps; s++) {
    const rows = seqs.map((seq, i) => ({ id: next[i]!, seq, pos: pos[i]!++ }));
    const t0 = performance.now();
    const m = meter.measure(() => r.run(rows, rows.length));
    if (s >= WARMUP_STEPS) {
      window.ms += performance.now() - t0;
      window.mj += m.mj;
      if ((s - WARMUP_STEPS + 1) % steps === 0) {
        if (window.ms < best.ms) best = window;
        window = { ms: 0, mj: 0 };
      }
    }
    for (let i = 0; i < seqs.length; i++) next[i] = argmax(r.logitsOf(i));
  }
  return best;
}

for (const threads of request.threads) {
  const r = new Runner(model, threads, 1, nCtx, Math.max(request.prefillTokens, DECODE_PROMPT));
  try {
    const seq = r.seqs[0]!;
    const first = r.prefill(seq, tokens(DECODE_PROMPT, 1, nVocab));
    const d = decodeTogether(r, [seq], [first], [DECODE_PROMPT], request.decodeTokens);
    rows.push({ kind: "decode", threads, tokens_per_s: (request.decodeTokens * 1000) / d.ms, mj_per_token: d.mj / request.decodeTokens });
    const prompt = tokens(request.prefillTokens, 2, nVocab);
    r.prefill(seq, prompt.slice(0, 8)); // warm
    const t0 = performance.now();
    r.prefill(seq, prompt);
    rows.push({ kind: "prefill", threads, tokens_per_s: (request.prefillTokens * 1000) / (performance.now() - t0) });
  } finally {
    r.free();
  }
}

if (request.streams) {
  const { threads, counts, steps } = request.streams;
  const r = new Runner(model, threads, Math.max(...counts), nCtx, Math.max(...counts, DECODE_PROMPT));
  try {
    for (const n of counts) {
      const seqs = r.seqs.slice(0, n);
      const first = seqs.map((seq, i) => r.prefill(seq, tokens(DECODE_PROMPT, 10 + i, nVocab)));
      const d = decodeTogether(
        r,
        seqs,
        first,
        seqs.map(() => DECODE_PROMPT),
        steps,
      );
      rows.push({ kind: "streams", threads, n, tokens_per_s: (n * steps * 1000) / d.ms });
    }
  } finally {
    r.free();
  }
}

if (request.context) {
  const { threads, lengths, steps } = request.context;
  const r = new Runner(model, threads, 1, nCtx, PREFILL_CHUNK);
  try {
    const seq = r.seqs[0]!;
    for (const n of lengths) {
      const first = r.prefill(seq, tokens(n, 3, nVocab), PREFILL_CHUNK);
      const d = decodeTogether(r, [seq], [first], [n], steps);
      rows.push({ kind: "context", threads, n, tokens_per_s: (steps * 1000) / d.ms });
    }
  } finally {
    r.free();
  }
}

const memory = model.memory();
model.free();
process.stdout.write(
  `${JSON.stringify({
    cpu_features: L.C.aria_cpu_features(),
    memory,
    peak_rss: peakRss(),
    energy: { method: meter.method, watts_per_core: meter.estimateWattsPerCore },
    rows,
  })}\n`,
);
L.close();
