/**
 * The header-only estimate of what a layer range holds equals what the native range load really
 * holds, on the built-in model, for every split an agent could choose and both head choices.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kernels } from "../kernels/engine.ts";
import { kernelLibraryPath } from "../kernels/library-path.ts";
import { ensureBuiltinModel } from "./builtin.ts";
import { footprintOf, rangeBytes } from "./footprint.ts";
import { readGgufHeaderFile } from "./gguf-file.ts";

/** What a load holds besides its tensors: per-layer tables, the RoPE table (bytes). */
const TABLES_AT_MOST = 8 * 1024; // measured: 5,072 B on the built-in model

let dir: string;
let path: string;
let kernels: Kernels;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-footprint-"));
  path = await ensureBuiltinModel(dir);
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
});

afterAll(() => {
  kernels?.close();
  rmSync(dir, { recursive: true, force: true });
});

test("every range's estimate is what the library holds, within its small tables", async () => {
  const { file } = await readGgufHeaderFile(path);
  for (const head of ["q8_0", "file"] as const) {
    const f = footprintOf(file, head);
    for (let begin = 0; begin < f.nLayers; begin++) {
      for (let end = begin + 1; end <= f.nLayers; end++) {
        const native = kernels.loadModel(path, { head: head === "q8_0" ? "q8_0" : "as-is", layers: [begin, end] });
        const { allocated } = native.memory();
        native.close();
        const estimate = rangeBytes(f, { layerBegin: begin, layerEnd: end });
        expect({ begin, end, head, over: allocated - estimate >= 0 && allocated - estimate <= TABLES_AT_MOST }).toEqual({
          begin,
          end,
          head,
          over: true,
        });
      }
    }
  }
});
