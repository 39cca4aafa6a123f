/**
 * SentencePiece parity with llama.cpp: the oracle model with a LLaMA-2-shaped SentencePiece
 * vocabulary (tests/oracle/oracle-model.ts, laid out like bitnet_b1_58-large's: `<unk>` `<s>`
 * `</s>`, byte tokens, scored pieces, `<pad>`, `</line>`) and llama.cpp's upstream `bitnet`
 * architecture (SiLU gating), tokenized by ARIA and by the llama.cpp that ships with
 * node-llama-cpp. Ids must be identical, with and without special-token parsing, with and
 * without BOS; and ARIA's engine loads the same file and predicts what llama.cpp predicts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernels, type NativeModel } from "../../agent/src/kernels/engine.ts";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { readGguf } from "../../shared/gguf/reader.ts";
import { SpmTokenizer, type Tokenizer, tokenizerFromGguf } from "../../shared/tokenizer/index.ts";
import { buildOracleModel, ORACLE_GAINS } from "./oracle-model.ts";
import { ORACLE_TIMEOUT_MS, type OracleAnswer, runOracle } from "./run-oracle.ts";
import { argmaxAgreement } from "./teacher-forcing.ts";
import { TOKENIZER_CASES } from "./tokenizer-cases.ts";

/** What SentencePiece does differently: the visible space, byte fallback, the appended tokens. */
const SPM_CASES: readonly string[] = [
  "▁already▁escaped and ▁ mixed",
  "<s>bos in text</s> eos <unk> unknown <pad> pad",
  "a line</line>next line</line></line>",
  "</line> at the start and at the end </line>",
  "<s> </s>  <s>",
  "tab\tnewline\ncarriage\rnul\u0000bell\u0007",
  "rare: ȸ ʬ Ꙭ 𐍈 𝔘𝔫𝔦 — all through byte fallback",
  "the the the then there these those theory thermal",
];

const TEACHER_FORCED = "The quick brown fox jumps over the lazy dog.</line>Agents on consumer PCs serve ternary models. ";
/** Positions whose argmax must agree (the BPE oracle model measured 99.2 %). */
const MIN_AGREEMENT = 0.95;

const requests = [...TOKENIZER_CASES, ...SPM_CASES].flatMap((text) => [
  { text, special: false },
  { text, special: true },
]);

let dir: string;
let tokenizer: Tokenizer;
let answer: OracleAnswer;
let kernels: Kernels;
let native: NativeModel;
let sequence: number[];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-oracle-spm-"));
  const modelPath = join(dir, "oracle-spm.gguf");
  const bytes = buildOracleModel(ORACLE_GAINS, "spm");
  writeFileSync(modelPath, bytes);
  tokenizer = tokenizerFromGguf(readGguf(bytes).metadata);
  sequence = tokenizer.encode(TEACHER_FORCED.repeat(2), { addBos: true }).slice(0, 64);
  answer = await runOracle(dir, { model: modelPath, threads: 2, top: 1, tokenize: requests, sequences: [sequence] });
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
  native = kernels.loadModel(modelPath);
}, ORACLE_TIMEOUT_MS + 10_000);

afterAll(() => {
  native?.close();
  kernels?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("SentencePiece tokenizer parity with llama.cpp", () => {
  test("the GGUF's tokenizer is SentencePiece; special ids and add_bos agree", () => {
    expect(tokenizer).toBeInstanceOf(SpmTokenizer);
    expect(answer.vocab.bos).toBe(tokenizer.bosId!);
    expect(answer.vocab.eos).toBe(tokenizer.eosId!);
    expect(answer.vocab.addBos).toBe(tokenizer.addBos);
  });

  test.each(requests.map((r, i) => [i, r.special, JSON.stringify(r.text).slice(0, 60)] as const))(
    "case %d (special %p): %s",
    (i, special) => {
      const text = requests[i]!.text;
      const llama = answer.tokenize[i]!;
      expect(tokenizer.encode(text, { addBos: false, parseSpecial: special })).toEqual(llama);
      expect(tokenizer.encode(text, { addBos: true, parseSpecial: special })).toEqual([tokenizer.bosId!, ...llama]);
    },
  );

  test("decoding gives back the text, with the space the prefix added", () => {
    for (const text of ["Hello, world!", "rare: ȸ 𐍈 and a line</line>", "日本語 🙂"]) {
      expect(tokenizer.decode(tokenizer.encode(text, { addBos: false }))).toBe(` ${text}`);
    }
  });
});

describe("the SiLU `bitnet` architecture with a SentencePiece vocabulary", () => {
  test("ARIA loads the file and its teacher-forced argmax agrees with llama.cpp", () => {
    expect(native.info.nVocab).toBe(tokenizer.vocabSize);
    const { agree } = argmaxAgreement(native, [sequence], answer.sequences);
    console.log(`oracle (SentencePiece vocabulary): argmax agreement ${agree}/${sequence.length}`);
    expect(agree / sequence.length).toBeGreaterThanOrEqual(MIN_AGREEMENT);
  });
});
