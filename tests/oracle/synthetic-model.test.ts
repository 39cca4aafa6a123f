/**
 * The kernel benchmark's model generator (benchmarks/kernels/synthetic-model.ts), at a small shape:
 * its TQ2_0 and I2_S files hold the same trits and scales, ARIA loads both, and llama.cpp loads the
 * TQ2_0 one and tokenizes like ARIA with its synthetic merges (a second, denser vocabulary for the
 * tokenizer parity check). The full 2B-4T-shaped pair comes from the same code.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernels } from "../../agent/src/kernels/engine.ts";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { SHAPE_SMALL, syntheticPaths, writeSyntheticPair } from "../../benchmarks/kernels/synthetic-model.ts";
import { GgmlType } from "../../shared/gguf/constants.ts";
import { readGguf, tensorData } from "../../shared/gguf/reader.ts";
import { unpackTq2_0 } from "../../shared/gguf/tq2-0.ts";
import { BpeTokenizer } from "../../shared/tokenizer/index.ts";

const TIMEOUT_MS = 45_000;
const TEXTS = [
  "Hello world, this is a synthetic vocabulary test with words like AER4Y and xVXG.",
  "ĠxVX 1234567890 don't <|eot_id|> <|begin_of_text|> tabs\tand\nnewlines  ",
];

let dir: string;
let paths: { tq2_0: string; i2_s: string };
let llama: { tokenize: number[][] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-synthetic-"));
  paths = syntheticPaths(dir, SHAPE_SMALL);
  writeSyntheticPair(SHAPE_SMALL, paths);
  const requestPath = join(dir, "request.json");
  const tokenize = TEXTS.flatMap((text) => [
    { text, special: false },
    { text, special: true },
  ]);
  writeFileSync(requestPath, JSON.stringify({ model: paths.tq2_0, tokenize }));
  const child = Bun.spawn([process.env.npm_node_execpath ?? "node", join(import.meta.dir, "llama-oracle.mjs"), requestPath], {
    stdout: "pipe",
    stderr: "pipe",
    timeout: TIMEOUT_MS,
  });
  const [stdout, stderr, status] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (status !== 0) throw new Error(`llama-oracle.mjs failed (exit ${status}): ${stderr}`);
  llama = JSON.parse(stdout);
}, TIMEOUT_MS + 10_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test("the TQ2_0 and I2_S files hold the same trits, scales and floats", async () => {
  const a = new Uint8Array(await Bun.file(paths.tq2_0).arrayBuffer());
  const b = new Uint8Array(await Bun.file(paths.i2_s).arrayBuffer());
  const fa = readGguf(a, { fileSize: a.length });
  const fb = readGguf(b, { fileSize: b.length });
  expect(fa.architecture).toBe("bitnet");
  expect(fb.architecture).toBe("bitnet-b1.58");
  expect(fb.tensors.map((t) => t.name)).toEqual(fa.tensors.map((t) => t.name));
  for (const [i, ta] of fa.tensors.entries()) {
    const tb = fb.tensors[i]!;
    const da = tensorData(a, fa, ta);
    const db = tensorData(b, fb, tb);
    if (ta.type !== GgmlType.TQ2_0) {
      expect(db).toEqual(da);
      continue;
    }
    expect(tb.type).toBe(GgmlType.I2_S);
    const n = ta.nElements;
    const { trits, scales } = unpackTq2_0(da, n);
    // I2_S (docs/bitnet-format.md §3.3): 128-element blocks of 32 bytes, element j at byte j % 32, shift 6 − 2·(j / 32).
    let mismatches = 0;
    for (let j = 0; j < n; j++) {
      const k = j & 127;
      const code = (db[(j >> 7) * 32 + (k & 31)]! >> (6 - 2 * (k >> 5))) & 3;
      if (code - 1 !== trits[j]) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(new Set(scales).size).toBe(1);
    expect(new DataView(db.buffer, db.byteOffset + n / 4, 4).getFloat32(0, true)).toBe(scales[0]!);
  }
});

test("ARIA loads both files; llama.cpp loads the TQ2_0 one and tokenizes like ARIA", async () => {
  const kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
  try {
    for (const path of [paths.tq2_0, paths.i2_s]) {
      const model = kernels.loadModel(path);
      expect(model.info.nLayer).toBe(SHAPE_SMALL.nLayer);
      expect(model.info.nVocab).toBe(SHAPE_SMALL.nVocab);
      model.close();
    }
  } finally {
    kernels.close();
  }
  const bytes = new Uint8Array(await Bun.file(paths.tq2_0).arrayBuffer());
  const tokenizer = BpeTokenizer.fromGguf(readGguf(bytes, { fileSize: bytes.length }).metadata);
  TEXTS.forEach((text, i) => {
    expect(tokenizer.encode(text, { addBos: false, parseSpecial: false })).toEqual(llama.tokenize[2 * i]!);
    expect(tokenizer.encode(text, { addBos: false, parseSpecial: true })).toEqual(llama.tokenize[2 * i + 1]!);
  });
});
