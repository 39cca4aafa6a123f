import { describe, expect, test } from "bun:test";
import { alignUp, GgmlType, GgufValueType } from "./constants.ts";
import { GgufError } from "./errors.ts";
import { type GgufValue, gv, metaBool, metaFloat, metaInteger, metaNumberArray, metaString, metaStringArray } from "./metadata.ts";
import { readGguf, tensorData } from "./reader.ts";
import { packTernaryTq2_0 } from "./tq2-0.ts";
import { writeGguf, writeGgufHeader } from "./writer.ts";

const T = GgufValueType;

function everyValueType(): [string, GgufValue][] {
  return [
    ["general.architecture", gv.str("bitnet-b1.58")],
    ["t.u8", gv.u8(255)],
    ["t.i8", gv.i8(-128)],
    ["t.u16", gv.u16(65535)],
    ["t.i16", gv.i16(-32768)],
    ["t.u32", gv.u32(0xffffffff)],
    ["t.i32", gv.i32(-0x80000000)],
    ["t.f32", gv.f32(Math.fround(1e-5))],
    ["t.bool.true", gv.bool(true)],
    ["t.bool.false", gv.bool(false)],
    ["t.string", gv.str("héllo ✓ 🦙 <|eot_id|>\n")],
    ["t.empty", gv.str("")],
    ["t.u64", gv.u64(2n ** 64n - 1n)],
    ["t.i64", gv.i64(-(2n ** 63n))],
    ["t.f64", gv.f64(Math.PI)],
    ["t.arr.u8", gv.array(T.UINT8, Uint8Array.of(0, 1, 255))],
    ["t.arr.i8", gv.array(T.INT8, Int8Array.of(-128, 0, 127))],
    ["t.arr.u16", gv.array(T.UINT16, Uint16Array.of(0, 65535))],
    ["t.arr.i16", gv.array(T.INT16, Int16Array.of(-32768, 32767))],
    ["t.arr.u32", gv.u32s([0, 0xffffffff])],
    ["t.arr.i32", gv.i32s([1, 3, -1])],
    ["t.arr.f32", gv.f32s([0.5, -2, Number.POSITIVE_INFINITY])],
    ["t.arr.f64", gv.array(T.FLOAT64, Float64Array.of(Math.E, -0))],
    ["t.arr.u64", gv.array(T.UINT64, BigUint64Array.of(0n, 2n ** 64n - 1n))],
    ["t.arr.i64", gv.array(T.INT64, BigInt64Array.of(-1n, 2n ** 63n - 1n))],
    ["t.arr.bool", gv.array(T.BOOL, [true, false, true])],
    ["t.arr.str", gv.strings(["a", "Ġthe", "", "日本"])],
    ["t.arr.empty", gv.strings([])],
    ["t.arr.plain", gv.array(T.INT16, [1, -2, 3])],
    [
      "t.arr.nested",
      gv.array(T.ARRAY, [
        { itemType: T.UINT8, items: Uint8Array.of(1, 2) },
        { itemType: T.STRING, items: ["x"] },
      ]),
    ],
  ];
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

describe("writeGguf -> readGguf", () => {
  test("every metadata value type round-trips", () => {
    const md = everyValueType();
    const bytes = writeGguf({ metadata: md, tensors: [] });
    const file = readGguf(bytes, { fileSize: bytes.length });
    expect(file.version).toBe(3);
    expect([...file.metadata.keys()]).toEqual(md.map(([k]) => k));
    for (const [key, want] of md) {
      const got = file.metadata.get(key) as GgufValue;
      expect(got.type).toBe(want.type);
      if (want.type === T.ARRAY && got.type === T.ARRAY) {
        expect(got.value.itemType).toBe(want.value.itemType);
        const norm = (a: GgufValue) =>
          JSON.stringify(a, (_k, v) =>
            typeof v === "bigint" ? `${v}n` : ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<unknown>) : v,
          );
        expect(norm(got)).toBe(norm(want));
      } else {
        expect(Object.is(got.value, want.value)).toBe(true);
      }
    }
    // Reader gives typed arrays for numeric element types.
    expect(file.metadata.get("t.arr.f32")?.value).toMatchObject({ items: expect.any(Float32Array) });
    expect(file.metadata.get("t.arr.plain")?.value).toMatchObject({ items: expect.any(Int16Array) });
  });

  test("typed getters", () => {
    const file = readGguf(writeGguf({ metadata: everyValueType(), tensors: [] }));
    const md = file.metadata;
    expect(metaString(md, "t.string")).toBe("héllo ✓ 🦙 <|eot_id|>\n");
    expect(metaInteger(md, "t.u32")).toBe(0xffffffff);
    expect(metaInteger(md, "t.i8")).toBe(-128);
    expect(metaInteger(md, "missing")).toBeUndefined();
    expect(metaFloat(md, "t.f32")).toBe(Math.fround(1e-5));
    expect(metaBool(md, "t.bool.true")).toBe(true);
    expect(metaStringArray(md, "t.arr.str")).toEqual(["a", "Ġthe", "", "日本"]);
    expect(Array.from(metaNumberArray(md, "t.arr.i32") ?? [])).toEqual([1, 3, -1]);
    expect(() => metaInteger(md, "t.u64")).toThrow(GgufError); // beyond 2^53
    expect(() => metaString(md, "t.u32")).toThrow(/should be a STRING, but is UINT32/);
    expect(() => metaStringArray(md, "t.arr.i32")).toThrow(/ARRAY of INT32/);
    expect(() => metaNumberArray(md, "t.arr.str")).toThrow(GgufError);
  });

  test("tensors of several types: sequential 32-byte-aligned offsets, zero padding, exact data", () => {
    const trits = Int8Array.from({ length: 512 }, (_, i) => ((i * 7) % 3) - 1);
    const tensors = [
      { name: "norm.weight", type: GgmlType.F32, dims: [3], data: f32Bytes([1, 2, 3]) }, // 12 bytes
      { name: "emb.weight", type: GgmlType.F16, dims: [5, 3], data: Uint8Array.from({ length: 30 }, (_, i) => i + 1) },
      { name: "blk.0.attn_q.weight", type: GgmlType.TQ2_0, dims: [256, 2], data: packTernaryTq2_0(trits, 0.5) }, // 132 bytes
      { name: "bf.weight", type: GgmlType.BF16, dims: [1, 1, 1, 7], data: new Uint8Array(14).fill(0xab) },
      { name: "q8.weight", type: GgmlType.Q8_0, dims: [32], data: new Uint8Array(34).fill(7) },
      { name: "i2s.weight", type: GgmlType.I2_S, dims: [128, 2], data: new Uint8Array(64 + 32).fill(0x55) },
      { name: "tq1.weight", type: GgmlType.TQ1_0, dims: [256], data: new Uint8Array(54).fill(9) },
    ];
    const bytes = writeGguf({ metadata: [["general.architecture", gv.str("bitnet-b1.58")]], tensors });
    const file = readGguf(bytes, { fileSize: bytes.length });
    expect(file.alignment).toBe(32);
    expect(file.dataOffset % 32).toBe(0);
    let expected = 0;
    file.tensors.forEach((t, i) => {
      const want = tensors[i] as (typeof tensors)[number];
      expect(t.name).toBe(want.name);
      expect(t.dims).toEqual(want.dims);
      expect(t.type).toBe(want.type);
      expect(t.offset).toBe(expected);
      expect(t.nBytes).toBe(want.data.length);
      expect(tensorData(bytes, file, t)).toEqual(want.data);
      // Padding after each tensor is zeros.
      const end = file.dataOffset + t.offset + want.data.length;
      expect(bytes.subarray(end, file.dataOffset + alignUp(t.offset + want.data.length, 32)).every((b) => b === 0)).toBe(true);
      expected += alignUp(want.data.length, 32);
    });
    expect(file.tensors[5]?.typeInfo?.name).toBe("I2_S");
    expect(bytes.length).toBe(file.dataOffset + expected);
  });

  test("writeGgufHeader + streamed data gives the same bytes as writeGguf", () => {
    const tensors = [
      { name: "a", type: GgmlType.F32, dims: [3], data: f32Bytes([1, 2, 3]) },
      { name: "b", type: GgmlType.I2_S, dims: [128, 2], data: new Uint8Array(64 + 32).fill(0x55) },
      { name: "c", type: GgmlType.F16, dims: [5], data: new Uint8Array(10).fill(1) },
    ];
    const metadata: [string, GgufValue][] = [["general.architecture", gv.str("bitnet-b1.58")]];
    const whole = writeGguf({ metadata, tensors });
    const { header, tensors: placed, dataBytes } = writeGgufHeader(metadata, tensors);
    const streamed: Uint8Array = new Uint8Array(header.length + dataBytes);
    streamed.set(header);
    tensors.forEach((t, i) => {
      expect(placed[i]?.nBytes).toBe(t.data.length);
      streamed.set(t.data, header.length + placed[i]!.offset);
    });
    expect(streamed).toEqual(whole);
    expect(placed.map((t) => t.typeName)).toEqual(["F32", "I2_S", "F16"]);
  });

  test("large files: buffer growth keeps every byte", () => {
    const strings = Array.from({ length: 30000 }, (_, i) => `token-${i}`);
    const ints = Int32Array.from({ length: 30000 }, (_, i) => i * 7 - 5);
    const big = Uint8Array.from({ length: 300000 }, (_, i) => (i * 31) & 0xff);
    const bytes = writeGguf({
      metadata: [
        ["s", gv.strings(strings)],
        ["i", gv.i32s(ints)],
      ],
      tensors: [{ name: "big", type: GgmlType.I8, dims: [300000], data: big }],
    });
    const file = readGguf(bytes, { fileSize: bytes.length });
    expect(metaStringArray(file.metadata, "s")).toEqual(strings);
    expect(Array.from(metaNumberArray(file.metadata, "i") ?? [])).toEqual(Array.from(ints));
    expect(tensorData(bytes, file, file.tensors[0] as (typeof file.tensors)[number])).toEqual(big);
  });

  test("general.alignment is honoured", () => {
    const bytes = writeGguf({
      metadata: [["general.alignment", gv.u32(64)]],
      tensors: [
        { name: "a", type: GgmlType.F32, dims: [1], data: f32Bytes([1]) },
        { name: "b", type: GgmlType.F32, dims: [1], data: f32Bytes([2]) },
      ],
    });
    const file = readGguf(bytes);
    expect(file.alignment).toBe(64);
    expect(file.dataOffset % 64).toBe(0);
    expect(file.tensors.map((t) => t.offset)).toEqual([0, 64]);
  });

  test("writer rejects bad input with stable codes", () => {
    const one = { name: "a", type: GgmlType.F32, dims: [1], data: f32Bytes([1]) };
    const err = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof GgufError ? e.code : `not a GgufError: ${e}`;
      }
      return "no error";
    };
    expect(err(() => writeGguf({ metadata: [["x", gv.u8(256)]], tensors: [] }))).toBe("BAD_METADATA");
    expect(err(() => writeGguf({ metadata: [["x", gv.u32(1.5)]], tensors: [] }))).toBe("BAD_METADATA");
    expect(
      err(() =>
        writeGguf({
          metadata: [
            ["x", gv.i32s([1])],
            ["x", gv.u8(1)],
          ],
          tensors: [],
        }),
      ),
    ).toBe("BAD_METADATA");
    expect(err(() => writeGguf({ metadata: [["general.alignment", gv.u32(24)]], tensors: [] }))).toBe("BAD_METADATA");
    expect(err(() => writeGguf({ metadata: [], tensors: [{ ...one, data: new Uint8Array(3) }] }))).toBe("BAD_TENSOR");
    expect(err(() => writeGguf({ metadata: [], tensors: [one, one] }))).toBe("BAD_TENSOR");
    expect(err(() => writeGguf({ metadata: [], tensors: [{ ...one, name: "n".repeat(64) }] }))).toBe("BAD_TENSOR");
    expect(err(() => writeGguf({ metadata: [], tensors: [{ ...one, dims: [1, 1, 1, 1, 1] }] }))).toBe("BAD_TENSOR");
    expect(err(() => writeGguf({ metadata: [], tensors: [{ ...one, type: 99 }] }))).toBe("UNSUPPORTED");
    expect(
      err(() => writeGguf({ metadata: [], tensors: [{ name: "q", type: GgmlType.TQ2_0, dims: [128, 2], data: new Uint8Array(66) }] })),
    ).toBe("BAD_TENSOR");
  });
});
