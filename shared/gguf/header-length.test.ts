import { describe, expect, test } from "bun:test";
import { GgmlType, GgufValueType } from "./constants.ts";
import { ggufHeaderLength } from "./header-length.ts";
import { gv } from "./metadata.ts";
import { readGguf } from "./reader.ts";
import { writeGguf } from "./writer.ts";

describe("ggufHeaderLength", () => {
  const tokens = Array.from({ length: 2000 }, (_, i) => `tok${i}`);
  const bytes = writeGguf({
    metadata: [
      ["general.architecture", gv.str("llama")],
      ["tokenizer.ggml.tokens", gv.strings(tokens)],
      ["tokenizer.ggml.token_type", gv.array(GgufValueType.INT32, new Int32Array(2000))],
      ["nested", gv.array(GgufValueType.ARRAY, [{ itemType: GgufValueType.UINT8, items: new Uint8Array(3) }])],
    ],
    tensors: [{ name: "w", type: GgmlType.F32, dims: [8], data: new Uint8Array(32) }],
  });
  const end = readGguf(bytes).dataOffset;

  test("finds where the tensor infos end, from the whole file or any prefix that holds them", () => {
    const whole = ggufHeaderLength(bytes);
    expect(whole).not.toBeNull();
    const length = (whole as { length: number }).length;
    expect(length).toBeLessThanOrEqual(end);
    expect(end - length).toBeLessThan(32); // only the alignment padding is left
    expect(ggufHeaderLength(bytes.subarray(0, length))).toEqual({ length });
  });

  test("a short prefix says how many bytes it needs at least, growing to the length", () => {
    let prefix = 16;
    let steps = 0;
    for (;;) {
      const r = ggufHeaderLength(bytes.subarray(0, prefix));
      if (r && "length" in r) break;
      expect(r).not.toBeNull();
      const { needed } = r as { needed: number };
      expect(needed).toBeGreaterThan(prefix);
      prefix = needed;
      steps++;
    }
    expect(steps).toBeGreaterThan(100); // one string at a time here: the reader doubles its reads instead
  });

  test("not a GGUF: null", () => {
    expect(ggufHeaderLength(new Uint8Array(64))).toBeNull();
  });
});
