/**
 * Every BitNet family users download loads the first time (docs/models.md, "Families"): for each,
 * a file with the published layout (tests/families/published-layouts.ts)
 *
 * - at a small shape, loaded whole the way `aria-agent` loads a model (tokenizer from the GGUF,
 *   native weights, file hash), a chat prompt tokenized and run to finite logits;
 * - at the published shape (a sparse file: only one middle layer holds data), range-loaded for
 *   that layer as a middle pipeline stage would, its hyperparameters read back exactly, the bytes
 *   held no more than that layer's, and one position computed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernels } from "../../agent/src/kernels/engine.ts";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { readGgufHeaderFile } from "../../agent/src/model/gguf-file.ts";
import { LoadedModel } from "../../agent/src/serve/loaded-model.ts";
import { BpeTokenizer, SpmTokenizer } from "../../shared/tokenizer/index.ts";
import { FAMILIES, type FamilyLayout, familyTensors, writeFamilyFile } from "./published-layouts.ts";

/** ARIA_ARCH_* and ARIA_ACT_* (kernels/include/aria.h). */
const ARCH_IDS = { "bitnet-b1.58": 1, bitnet: 3, llama: 4 } as const;
const ACT = { relu2: 1, silu: 2 } as const;

/** What a range load holds besides its layer tensors (output norm, layer table, RoPE): measured 25–113 KiB, the most at 8B. */
const HELD_OVERHEAD = 256 * 1024;

let dir: string;
let kernels: Kernels;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aria-families-"));
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
});

afterAll(() => {
  kernels?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const slug = (f: FamilyLayout) => f.model.split("/")[1]!;

describe.each(FAMILIES.map((f) => [slug(f), f] as const))("%s", (_, f) => {
  test("a small file with every published key, name and type serves a chat prompt", async () => {
    const path = join(dir, `${slug(f)}-small.gguf`);
    writeFamilyFile(f, f.small, path);
    const model = await LoadedModel.load(kernels, slug(f), path, { threads: 2, head: "q8_0" });
    try {
      expect(model.tokenizer).toBeInstanceOf(f.vocabulary === "llama2-spm" ? SpmTokenizer : BpeTokenizer);
      expect(model.native.info).toMatchObject({
        arch: ARCH_IDS[f.arch],
        ffnAct: f.arch === "bitnet-b1.58" ? ACT.relu2 : ACT.silu,
        nLayer: f.small.nLayer,
        nVocab: f.small.nVocab,
      });
      const prompt = await model.promptTokens([{ role: "user", content: "Which layers do you hold?" }]);
      expect(prompt[0]).toBe(model.tokenizer.bosId!);
      const session = model.native.createSession(0, f.small.nLayer, prompt.length);
      const logits = model.native.logits(session.forward(model.native.embed(prompt), prompt.length, 0), prompt.length);
      session.close();
      expect(logits.length).toBe(prompt.length * f.small.nVocab);
      expect(logits.every(Number.isFinite)).toBe(true);
    } finally {
      model.close();
    }
  }, 60_000);

  test("the published shape range-loads as a middle stage holding one layer's bytes", async () => {
    const path = join(dir, `${slug(f)}.gguf`);
    const mid = Math.floor(f.shape.nLayer / 2);
    const inLayer = (name: string) => name.startsWith(`blk.${mid}.`);
    const fileBytes = writeFamilyFile(f, f.shape, path, inLayer);
    const { file } = await readGgufHeaderFile(path);
    const specs = familyTensors(f, f.shape);
    expect(file.tensors.map((t) => t.name)).toEqual(specs.map((t) => t.name));
    const layerBytes = file.tensors.filter((t) => inLayer(t.name)).reduce((n, t) => n + t.nBytes, 0);
    const native = kernels.loadModel(path, { head: "q8_0", layers: [mid, mid + 1] });
    try {
      const s = f.shape;
      expect(native.info).toMatchObject({
        arch: ARCH_IDS[f.arch],
        nVocab: s.nVocab,
        nEmbd: s.nEmbd,
        nLayer: s.nLayer,
        nHead: s.nHead,
        nHeadKv: s.nHeadKv,
        headDim: s.nEmbd / s.nHead,
        nFf: s.nFf,
        nCtxTrain: s.nCtx,
      });
      const { allocated } = native.memory();
      console.log(
        `families: ${slug(f)}: ${file.tensors.length} tensors, file ${(fileBytes / 2 ** 30).toFixed(2)} GiB; ` +
          `layer ${mid} holds ${(allocated / 2 ** 20).toFixed(1)} MiB (its tensors: ${(layerBytes / 2 ** 20).toFixed(1)} MiB, ` +
          `+${((allocated - layerBytes) / 1024).toFixed(0)} KiB)`,
      );
      // The layer's tensors (norms kept as f32), per-layer structs and the RoPE table: nothing of
      // the embedding or the head.
      expect(allocated).toBeGreaterThanOrEqual(layerBytes);
      expect(allocated).toBeLessThanOrEqual(layerBytes + HELD_OVERHEAD);
      const session = native.createSession(mid, mid + 1, 4);
      const hidden = Float32Array.from({ length: s.nEmbd }, (_, i) => Math.sin(i));
      const out = session.forward(hidden, 1, 0);
      session.close();
      expect(out.length).toBe(s.nEmbd);
      expect(out.every(Number.isFinite)).toBe(true);
    } finally {
      native.close();
      rmSync(path, { force: true });
    }
  }, 120_000);
});
