/**
 * llama.cpp as an oracle: the same GGUF file (tests/oracle/oracle-model.ts, llama.cpp's `bitnet`
 * architecture with TQ2_0 weights and the built-in vocabulary) through ARIA and through the
 * llama.cpp that ships prebuilt with node-llama-cpp.
 *
 * node-llama-cpp is a Node addon and ARIA's engine is reached through bun:ffi, so this Bun test
 * spawns `node tests/oracle/llama-oracle.mjs` once and compares with its JSON answer.
 *
 * Tokenizer: ids must be identical. Forward pass: the engines are not bit-identical by design —
 * ARIA quantizes each BitLinear input per token (BitNet's definition), llama.cpp's CPU TQ2_0 path
 * per 256-value block (Q8_K), and llama.cpp rounds the KV cache and the inputs of its f16 matmuls
 * (attention scores and values, the tied head) to f16. So the teacher-forced argmax must agree on
 * most positions, not all, and the logits (relative to each side's best) must be close. Measured on
 * this model (AVX-512 EPYC, llama.cpp CPU build from node-llama-cpp 3.21.1, 1 or 2 threads alike):
 * agreement 381/384 = 99.2 %; |Δ(logit − best logit)| over llama.cpp's top 8 per position: median
 * 0.049, p95 0.19, max 0.42; the three disagreements are near ties. With fully random weights the
 * same comparison gave 87–95 % (see ORACLE_GAINS for why and what the model does instead).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernels, type NativeModel } from "../../agent/src/kernels/engine.ts";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { readGguf } from "../../shared/gguf/reader.ts";
import { BpeTokenizer } from "../../shared/tokenizer/index.ts";
import { buildOracleModel } from "./oracle-model.ts";
import { ORACLE_TIMEOUT_MS, type OracleAnswer, runOracle } from "./run-oracle.ts";
import { teacherForced } from "./teacher-forcing.ts";
import { TOKENIZER_CASES } from "./tokenizer-cases.ts";

/** Share of teacher-forced positions whose argmax must agree (measured: 99.2 %). */
const MIN_AGREEMENT = 0.95;
/** Median and worst |Δ| of (logit − best logit) over llama.cpp's top tokens (measured 0.049 / 0.42). */
const MEDIAN_LOGIT_TOL = 0.15;
const MAX_LOGIT_TOL = 1.5;
/** Logits compared per position: llama.cpp's highest ones. */
const TOP = 8;
const POSITIONS_PER_SEQUENCE = 96;

/** Teacher-forced texts (tokenized by ARIA; both engines get the same ids). */
const SEQUENCE_TEXTS: readonly string[] = [
  "The quick brown fox jumps over the lazy dog. Agents on consumer PCs serve ternary models, and the coordinator routes requests to them. ",
  "In 2024, 1-bit LLMs such as BitNet b1.58 showed that weights in {-1, 0, +1} are enough. Every layer streams its weights once per token; memory bandwidth decides speed. ",
  "User: What is the capital of France?<|eot_id|>Assistant: The capital of France is Paris, a city on the Seine with 2,102,650 people. ",
  "def main():\n    for i in range(10):\n        print(i * i)\n\nif __name__ == '__main__':\n    main()\n",
];

let dir: string;
let tokenizer: BpeTokenizer;
let kernels: Kernels;
let native: NativeModel;
let sequences: number[][];
let answer: OracleAnswer;

const tokenizeRequests = TOKENIZER_CASES.flatMap((text) => [
  { text, special: false },
  { text, special: true },
]);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-oracle-"));
  const modelPath = join(dir, "oracle.gguf");
  const bytes = buildOracleModel();
  writeFileSync(modelPath, bytes);
  tokenizer = BpeTokenizer.fromGguf(readGguf(bytes).metadata);
  sequences = SEQUENCE_TEXTS.map((t) =>
    tokenizer.encode(t.repeat(3), { addBos: true, parseSpecial: true }).slice(0, POSITIONS_PER_SEQUENCE),
  );
  answer = await runOracle(dir, { model: modelPath, threads: 2, top: TOP, tokenize: tokenizeRequests, sequences });
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
  native = kernels.loadModel(modelPath);
}, ORACLE_TIMEOUT_MS + 10_000);

afterAll(() => {
  native?.close();
  kernels?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("tokenizer parity with llama.cpp", () => {
  test("special ids and add_bos agree", () => {
    expect(answer.vocab.bos).toBe(tokenizer.bosId!);
    expect(answer.vocab.eos).toBe(tokenizer.eosId!);
    // llama.cpp picks its EOT among several end-of-turn texts; ARIA stops on all of them.
    expect(tokenizer.isEos(answer.vocab.eot!)).toBe(true);
    expect(answer.vocab.addBos).toBe(tokenizer.addBos);
  });

  test.each(tokenizeRequests.map((r, i) => [i, r.special, JSON.stringify(r.text).slice(0, 60)] as const))(
    "case %d (special %p): %s",
    (i, special) => {
      const text = tokenizeRequests[i]!.text;
      const llama = answer.tokenize[i]!;
      expect(tokenizer.encode(text, { addBos: false, parseSpecial: special })).toEqual(llama);
      // llama.cpp's add_special prepends BOS when the vocabulary says so; so does ARIA's default.
      const withBos = answer.vocab.addBos ? [answer.vocab.bos!, ...llama] : llama;
      expect(tokenizer.encode(text, { parseSpecial: special })).toEqual(withBos);
      expect(tokenizer.encode(text, { addBos: true, parseSpecial: special })).toEqual([tokenizer.bosId!, ...llama]);
    },
  );
});

describe("teacher-forced next token vs llama.cpp", () => {
  test("argmax agreement and logit differences", () => {
    const { nVocab } = native.info;
    let agree = 0;
    let positions = 0;
    const diffs: number[] = [];
    const distinct = new Set<number>();
    for (const [s, ids] of sequences.entries()) {
      const llama = answer.sequences[s]!;
      expect(llama.argmax.length).toBe(ids.length);
      const { logits, argmax } = teacherForced(native, ids);
      for (let p = 0; p < ids.length; p++) {
        const row = logits.subarray(p * nVocab, (p + 1) * nVocab);
        const best = argmax[p]!;
        positions++;
        if (best === llama.argmax[p]) agree++;
        distinct.add(best);
        for (const [id, rel] of llama.top[p]!) diffs.push(Math.abs(row[id]! - row[best]! - rel));
      }
    }
    diffs.sort((a, b) => a - b);
    const median = diffs[diffs.length >> 1]!;
    const max = diffs[diffs.length - 1]!;
    console.log(
      `oracle: argmax agreement ${agree}/${positions} = ${((100 * agree) / positions).toFixed(1)} %; ` +
        `|Δ logit| over llama.cpp's top ${TOP}: median ${median.toFixed(3)}, p95 ${diffs[Math.floor(diffs.length * 0.95)]!.toFixed(3)}, max ${max.toFixed(3)}; ` +
        `${distinct.size} distinct argmax tokens`,
    );
    expect(positions).toBeGreaterThanOrEqual(200);
    // Not a degenerate model that always predicts the same few tokens.
    expect(distinct.size).toBeGreaterThanOrEqual(20);
    expect(agree / positions).toBeGreaterThanOrEqual(MIN_AGREEMENT);
    expect(median).toBeLessThanOrEqual(MEDIAN_LOGIT_TOL);
    expect(max).toBeLessThanOrEqual(MAX_LOGIT_TOL);
  });
});
