import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGgufHeaderFile } from "../../agent/src/model/gguf-file.ts";
import { GgmlType } from "../../shared/gguf/constants.ts";
import { f16ToF32, f32ToF16 } from "../../shared/gguf/f16.ts";
import { ensureQ8HeadTwin, quantizeRowQ8_0 } from "./q8-head-twin.ts";
import { SHAPE_SMALL, writeSyntheticPair } from "./synthetic-model.ts";

describe("the Q8_0-head twin for llama.cpp", () => {
  test("Q8_0 blocks: d = max|x| / 127 as f16, q = x / d rounded half away from zero", () => {
    const x = Float32Array.from({ length: 64 }, (_, i) => (i < 32 ? (i - 16) / 8 : i === 40 ? -2.54 : 0.01 * (i - 48)));
    const f16 = Uint16Array.from(x, (v) => f32ToF16(v));
    const out = new Uint8Array(68);
    quantizeRowQ8_0(f16, out);
    const view = new DataView(out.buffer);
    for (let b = 0; b < 2; b++) {
      const vals = Array.from(f16.subarray(32 * b, 32 * b + 32), f16ToF32);
      const d = Math.fround(Math.max(...vals.map(Math.abs)) / 127);
      expect(view.getUint16(34 * b, true)).toBe(f32ToF16(d));
      const q = Array.from({ length: 32 }, (_, j) => view.getInt8(34 * b + 2 + j));
      expect(Math.max(...q.map(Math.abs))).toBe(127); // the largest value maps to ±127
      for (let j = 0; j < 32; j++) expect(Math.abs(q[j]! * d - vals[j]!)).toBeLessThanOrEqual(d / 2 + 1e-7);
    }
    expect(view.getInt8(2)).toBe(-127); // -2 is block 0's max |x|: exactly -127
  });

  test("the twin holds the same tensors byte for byte except token_embd, now Q8_0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-twin-"));
    try {
      const paths = { tq2_0: join(dir, "a-tq2_0.gguf"), i2_s: join(dir, "a-i2_s.gguf") };
      writeSyntheticPair(SHAPE_SMALL, paths);
      const twin = await ensureQ8HeadTwin(paths.tq2_0, join(dir, "a-tq2_0-q8head.gguf"));
      const [a, b] = [await readGgufHeaderFile(paths.tq2_0), await readGgufHeaderFile(twin)];
      const bytesA = readFileSync(paths.tq2_0);
      const bytesB = readFileSync(twin);
      expect(b.file.tensors.map((t) => t.name)).toEqual(a.file.tensors.map((t) => t.name));
      expect([...b.file.metadata.keys()]).toEqual([...a.file.metadata.keys()]);
      for (const [i, ta] of a.file.tensors.entries()) {
        const tb = b.file.tensors[i]!;
        expect(tb.dims).toEqual(ta.dims);
        const da = bytesA.subarray(a.file.dataOffset + ta.offset, a.file.dataOffset + ta.offset + ta.nBytes!);
        const db = bytesB.subarray(b.file.dataOffset + tb.offset, b.file.dataOffset + tb.offset + tb.nBytes!);
        if (ta.name === "token_embd.weight") {
          expect(tb.type).toBe(GgmlType.Q8_0);
          expect(tb.nBytes).toBe((ta.nElements / 32) * 34);
        } else {
          expect(tb.type).toBe(ta.type);
          expect(Buffer.compare(db, da)).toBe(0);
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
