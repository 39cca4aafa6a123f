/**
 * Range loads with the real library on the built-in model: an agent holding a third of the layers
 * holds about a third of the layer bytes, and the ends (embedding, head) only where its range
 * touches them — measured from the library's own accounting, not assumed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuiltinModel } from "../model/builtin.ts";
import { KernelError, Kernels } from "./engine.ts";
import { kernelLibraryPath } from "./library-path.ts";

let kernels: Kernels;
let path: string;

beforeAll(async () => {
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
  path = await ensureBuiltinModel(mkdtempSync(join(tmpdir(), "aria-range-")));
});
afterAll(() => kernels?.close());

const allocated = (layers?: readonly [number, number]) => {
  const m = kernels.loadModel(path, { head: "q8_0", ...(layers ? { layers } : {}) });
  try {
    return { bytes: m.memory().allocated, mapped: m.memory().mapped, nLayer: m.info.nLayer };
  } finally {
    m.close();
  }
};

describe("range loads", () => {
  test("three agents splitting the layers each hold about a third of the layer bytes", () => {
    const whole = allocated();
    const n = whole.nLayer;
    expect(n % 3).toBe(0);
    const parts = [0, 1, 2].map((k) => allocated([(k * n) / 3, ((k + 1) * n) / 3]));
    // What one layer costs, and what any load costs besides its layers and ends.
    const perLayer = allocated([1, 3]).bytes - allocated([1, 2]).bytes;
    const fixed = allocated([1, 2]).bytes - perLayer;
    const layerBytes = n * perLayer;
    const middle = parts[1]!.bytes;
    console.log(
      `range loads: whole ${whole.bytes} B; thirds ${parts.map((p) => p.bytes).join(", ")} B; ${n} layers × ${perLayer} B; a middle third holds ${middle} B = ${((100 * (middle - fixed)) / layerBytes).toFixed(1)} % of the layer bytes + ${fixed} B`,
    );
    // A middle third holds exactly its layers and a small fixed part; the ends hold more.
    expect(middle).toBe(fixed + (n / 3) * perLayer);
    expect(fixed).toBeLessThan(perLayer / 10);
    expect(parts[0]!.bytes).toBeLessThan(whole.bytes);
    expect(parts[2]!.bytes).toBeLessThan(whole.bytes);
    for (const p of [whole, ...parts]) expect(p.mapped).toBe(0);
  });

  test("what a range does not hold is refused by name", () => {
    const m = kernels.loadModel(path, { layers: [2, 4] });
    try {
      expect(() => m.embed([1])).toThrow(KernelError);
      expect(() => m.createShard(0, 2, 1)).toThrow("are not all loaded");
      expect(m.createShard(2, 4, 1)).toBeDefined();
    } finally {
      m.close();
    }
    expect(() => kernels.loadModel(path, { layers: [3, 3] })).toThrow("not a non-empty part");
  });
});
