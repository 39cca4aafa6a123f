/**
 * A ternary Llama (general.architecture "llama", TQ2_0 BitLinear weights, no sub-norms,
 * interleaved RoPE, SiLU) — how bitnet.cpp writes Llama3-8B-1.58 and Falcon3-1.58bit — through
 * ARIA and through llama.cpp (node-llama-cpp) on the same file: the teacher-forced argmax must
 * agree as on the `bitnet` oracle (the engines differ by design in activation quantization, see
 * llama-cpp.test.ts). Its vocabulary names Falcon3's pre-tokenizer ("falcon3"), which must
 * tokenize as llama.cpp does. A llama file whose BitLinear weights are not ternary is refused by
 * name.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernels, type NativeModel } from "../../agent/src/kernels/engine.ts";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { GgmlType } from "../../shared/gguf/constants.ts";
import { f32ToF16 } from "../../shared/gguf/f16.ts";
import { type GgufValue, gv } from "../../shared/gguf/metadata.ts";
import { readGguf } from "../../shared/gguf/reader.ts";
import { writeGguf } from "../../shared/gguf/writer.ts";
import { type Tokenizer, tokenizerFromGguf } from "../../shared/tokenizer/index.ts";
import { ORACLE_GAINS, ORACLE_SHAPE, oracleModelParts } from "./oracle-model.ts";
import { ORACLE_TIMEOUT_MS, type OracleAnswer, runOracle } from "./run-oracle.ts";
import { argmaxAgreement } from "./teacher-forcing.ts";
import { TOKENIZER_CASES } from "./tokenizer-cases.ts";

const MIN_AGREEMENT = 0.95;
const TEXTS = [
  "The quick brown fox jumps over the lazy dog. Agents on consumer PCs serve ternary models, and the coordinator routes requests to them. ",
  "def main():\n    for i in range(10):\n        print(i * i)\n\nif __name__ == '__main__':\n    main()\n",
];

let dir: string;
let modelPath: string;
let answer: OracleAnswer;
let kernels: Kernels;
let native: NativeModel;
let sequences: number[][];
let tokenizer: Tokenizer;
const requests = TOKENIZER_CASES.map((text) => ({ text, special: true }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-oracle-llama-"));
  modelPath = join(dir, "ternary-llama.gguf");
  const parts = oracleModelParts(ORACLE_GAINS, "bpe", "llama");
  const metadata = parts.metadata.map(([k, v]): [string, GgufValue] => [k, k === "tokenizer.ggml.pre" ? gv.str("falcon3") : v]);
  const bytes = writeGguf({ metadata, tensors: parts.tensors });
  writeFileSync(modelPath, bytes);
  tokenizer = tokenizerFromGguf(readGguf(bytes).metadata);
  sequences = TEXTS.map((t) => tokenizer.encode(t.repeat(3), { addBos: true }).slice(0, 96));
  answer = await runOracle(dir, { model: modelPath, threads: 2, top: 1, sequences, tokenize: requests });
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
  native = kernels.loadModel(modelPath);
}, ORACLE_TIMEOUT_MS + 10_000);

afterAll(() => {
  native?.close();
  kernels?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a ternary llama-architecture file", () => {
  test("loads as llama with SiLU and its teacher-forced argmax agrees with llama.cpp", () => {
    expect(native.info.arch).toBe(4); // ARIA_ARCH_LLAMA
    const { agree, positions } = argmaxAgreement(native, sequences, answer.sequences);
    console.log(`oracle (ternary llama): argmax agreement ${agree}/${positions}`);
    expect(positions).toBeGreaterThanOrEqual(150);
    expect(agree / positions).toBeGreaterThanOrEqual(MIN_AGREEMENT);
  });

  test("the falcon3 pre-tokenizer tokenizes every case as llama.cpp does", () => {
    requests.forEach(({ text }, i) => {
      expect(tokenizer.encode(text, { addBos: false, parseSpecial: true })).toEqual(answer.tokenize[i]!);
    });
  });

  test("float BitLinear weights under arch llama are refused, naming the tensor", () => {
    const parts = oracleModelParts(ORACLE_GAINS, "bpe", "llama");
    const n = ORACLE_SHAPE.nEmbd * ORACLE_SHAPE.nEmbd;
    const data = new Uint8Array(2 * n);
    const view = new DataView(data.buffer);
    for (let i = 0; i < n; i++) view.setUint16(2 * i, f32ToF16(((i * 7) % 3) - 1), true);
    const tensors = parts.tensors.map((t) => (t.name === "blk.0.attn_q.weight" ? { ...t, type: GgmlType.F16, data } : t));
    const path = join(dir, "float-llama.gguf");
    writeFileSync(path, writeGguf({ metadata: parts.metadata, tensors }));
    expect(() => kernels.loadModel(path)).toThrow(/blk\.0\.attn_q\.weight.*served only with ternary BitLinear weights/);
  });
});
