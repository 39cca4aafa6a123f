import { describe, expect, test } from "bun:test";
import { GgmlType } from "./constants.ts";
import { GgufError, type GgufErrorCode } from "./errors.ts";
import { gv } from "./metadata.ts";
import { probeGguf, readGguf } from "./reader.ts";
import { writeGguf } from "./writer.ts";

function codeOf(f: () => unknown): GgufErrorCode | string {
  try {
    f();
  } catch (e) {
    return e instanceof GgufError ? e.code : `not a GgufError: ${e}`;
  }
  return "no error";
}

const sample = writeGguf({
  metadata: [
    ["general.architecture", gv.str("bitnet-b1.58")],
    ["general.name", gv.str("sample")],
    ["tokenizer.ggml.tokens", gv.strings(Array.from({ length: 300 }, (_, i) => `tok${i}`))],
  ],
  tensors: [
    { name: "w", type: GgmlType.F32, dims: [4, 2], data: new Uint8Array(32) },
    { name: "v", type: GgmlType.F16, dims: [8], data: new Uint8Array(16) },
  ],
});
const full = readGguf(sample);

/** Little-endian helpers to forge headers. */
function header(parts: (number | bigint | string)[]): Uint8Array {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === "string") {
      const b = new TextEncoder().encode(p);
      out.push(...new Uint8Array(new BigUint64Array([BigInt(b.length)]).buffer), ...b);
    } else if (typeof p === "bigint") out.push(...new Uint8Array(new BigUint64Array([p]).buffer));
    else out.push(...new Uint8Array(new Uint32Array([p]).buffer));
  }
  return Uint8Array.from(out);
}
const MAGIC = 0x46554747;

describe("readGguf errors", () => {
  test("every truncation of the header is TRUNCATED with a useful `needed`", () => {
    for (let len = 0; len < full.dataOffset - 32; len++) {
      const slice = sample.subarray(0, len);
      let needed = -1;
      try {
        readGguf(slice);
      } catch (e) {
        expect(e).toBeInstanceOf(GgufError);
        expect((e as GgufError).code).toBe("TRUNCATED");
        needed = (e as GgufError).needed as number;
      }
      expect(needed).toBeGreaterThan(len);
      expect(needed).toBeLessThanOrEqual(full.dataOffset);
    }
  });

  test("probeGguf reports the needed size and converges", () => {
    let len = 16;
    let steps = 0;
    for (;;) {
      const p = probeGguf(sample.subarray(0, len));
      if (p.complete) {
        expect(p.file.tensors.map((t) => t.name)).toEqual(["w", "v"]);
        break;
      }
      expect(p.needed).toBeGreaterThan(len);
      len = p.needed;
      steps++;
    }
    expect(steps).toBeGreaterThan(3);
    // A string array reports the minimum for all its length prefixes at once.
    const p = probeGguf(sample.subarray(0, 200));
    expect(p.complete).toBe(false);
    if (!p.complete) expect(p.needed).toBeGreaterThan(300 * 8);
  });

  test("bad magic and version", () => {
    expect(codeOf(() => readGguf(new TextEncoder().encode("GGML\x03\0\0\0")))).toBe("BAD_MAGIC");
    expect(codeOf(() => readGguf(new Uint8Array(64)))).toBe("BAD_MAGIC");
    expect(codeOf(() => readGguf(header([MAGIC, 1, 0n, 0n])))).toBe("BAD_VERSION");
    expect(codeOf(() => readGguf(header([MAGIC, 0x03000000, 0n, 0n])))).toBe("BAD_VERSION");
    expect(() => readGguf(header([MAGIC, 0x03000000, 0n, 0n]))).toThrow(/big-endian/);
    expect(readGguf(header([MAGIC, 2, 0n, 0n])).version).toBe(2);
  });

  test("malformed metadata", () => {
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 2n ** 40n])))).toBe("BAD_METADATA");
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 1n, "k", 13, 0])))).toBe("BAD_METADATA"); // unknown type
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 2n, "k", 4, 1, "k", 4, 2])))).toBe("BAD_METADATA"); // duplicate
    expect(codeOf(() => readGguf(Uint8Array.of(...header([MAGIC, 3, 0n, 1n, "b", 7]), 2)))).toBe("BAD_METADATA"); // bool 2
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 1n, "s", 8, 2n ** 50n])))).toBe("BAD_METADATA"); // absurd string
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 1n, "a", 9, 4, 2n ** 40n])))).toBe("BAD_METADATA"); // absurd array
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 1n, "general.alignment", 4, 24])))).toBe("BAD_METADATA");
    expect(codeOf(() => readGguf(header([MAGIC, 3, 0n, 1n, "general.alignment", 10, 32n])))).toBe("BAD_METADATA");
    const badKey = Uint8Array.of(...header([MAGIC, 3, 0n, 1n]), 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 4, 0, 0, 0, 1, 0, 0, 0);
    expect(codeOf(() => readGguf(badKey))).toBe("BAD_METADATA"); // key not UTF-8
  });

  test("malformed tensor infos", () => {
    const t = (name: string, dims: bigint[], type: number, offset: bigint) =>
      header([MAGIC, 3, 1n, 0n, name, dims.length, ...dims, type, offset]);
    expect(readGguf(t("w", [4n], 0, 0n)).tensors[0]?.nBytes).toBe(16);
    expect(codeOf(() => readGguf(t("w", [4n], 0, 16n)))).toBe("BAD_TENSOR"); // misaligned
    expect(codeOf(() => readGguf(t("w", [], 0, 0n)))).toBe("BAD_TENSOR"); // no dims
    expect(codeOf(() => readGguf(t("w", [1n, 1n, 1n, 1n, 1n], 0, 0n)))).toBe("BAD_TENSOR");
    expect(codeOf(() => readGguf(t("w", [2n ** 60n], 0, 0n)))).toBe("BAD_TENSOR");
    expect(codeOf(() => readGguf(t("w", [2n ** 30n, 2n ** 30n], 0, 0n)))).toBe("BAD_TENSOR");
    expect(codeOf(() => readGguf(t("w", [100n], 35, 0n)))).toBe("BAD_TENSOR"); // TQ2_0 row not 256-multiple
    expect(codeOf(() => readGguf(t("x".repeat(64), [4n], 0, 0n)))).toBe("BAD_TENSOR");
    expect(codeOf(() => readGguf(t("", [4n], 0, 0n)))).toBe("BAD_TENSOR");
    expect(readGguf(t("w", [4n], 77, 0n)).tensors[0]?.typeInfo).toBeUndefined(); // unknown type: info only
    const twice = header([MAGIC, 3, 2n, 0n, "w", 1, 4n, 0, 0n, "w", 1, 4n, 0, 32n]);
    expect(codeOf(() => readGguf(twice))).toBe("BAD_TENSOR");
  });

  test("fileSize bounds: out-of-file and overlapping tensors", () => {
    const vEnd = full.dataOffset + (full.tensors[1]?.offset ?? 0) + 16;
    expect(readGguf(sample, { fileSize: vEnd }).tensors.length).toBe(2); // the trailing padding is optional
    expect(codeOf(() => readGguf(sample, { fileSize: vEnd - 1 }))).toBe("BAD_TENSOR");
    const overlap = header([MAGIC, 3, 2n, 0n, "a", 1, 16n, 0, 0n, "b", 1, 4n, 0, 32n]);
    const size = readGguf(overlap).dataOffset + 128;
    expect(codeOf(() => readGguf(overlap, { fileSize: size }))).toBe("BAD_TENSOR");
    expect(() => readGguf(overlap, { fileSize: size })).toThrow(/overlaps/);
  });

  test("type id 39 depends on the architecture", () => {
    const mk = (arch: string) =>
      readGguf(header([MAGIC, 3, 1n, 1n, "general.architecture", 8, arch, "w", 1, 32n, 39, 0n])).tensors[0]?.typeInfo?.name;
    expect(mk("bitnet-b1.58")).toBe("TL2");
    expect(mk("llama")).toBe("TL2"); // bitnet.cpp writes llama files too
    expect(mk("gpt2")).toBe("MXFP4");
  });
});

describe("string arrays", () => {
  test("decoded in one go, each string exactly as decoding it alone gives (invalid ones replaced)", () => {
    const enc = new TextEncoder();
    const items: Uint8Array[] = [
      enc.encode("plain"),
      new Uint8Array(0),
      enc.encode("Ġhello"),
      enc.encode("\uFEFFbom first"),
      enc.encode("emoji 🦙 and 日本"),
      Uint8Array.of(0x61, 0xc3), // cut in the middle of a sequence
      Uint8Array.of(0xa9, 0x62), // ... whose end starts the next string
      Uint8Array.of(0xed, 0xa0, 0x80), // a surrogate
      Uint8Array.of(0xf4, 0x90, 0x80, 0x80), // above U+10FFFF
      enc.encode("\u0000nul"),
      enc.encode("last"),
    ];
    const parts: Uint8Array[] = [];
    for (const it of items) {
      const len = new Uint8Array(8);
      new DataView(len.buffer).setBigUint64(0, BigInt(it.length), true);
      parts.push(len, it);
    }
    const body = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      body.set(p, at);
      at += p.length;
    }
    const key = "test.strings";
    const kv = new Uint8Array(8 + key.length + 4 + 4 + 8);
    const v = new DataView(kv.buffer);
    v.setBigUint64(0, BigInt(key.length), true);
    kv.set(new TextEncoder().encode(key), 8);
    v.setUint32(8 + key.length, 9, true); // ARRAY
    v.setUint32(12 + key.length, 8, true); // of STRING
    v.setBigUint64(16 + key.length, BigInt(items.length), true);
    const head = new Uint8Array(24);
    const hv = new DataView(head.buffer);
    hv.setUint32(0, 0x46554747, true);
    hv.setUint32(4, 3, true);
    hv.setBigUint64(8, 0n, true);
    hv.setBigUint64(16, 1n, true);
    const file = new Uint8Array(head.length + kv.length + body.length + 32);
    file.set(head, 0);
    file.set(kv, head.length);
    file.set(body, head.length + kv.length);
    const got = readGguf(file).metadata.get(key);
    const alone = new TextDecoder("utf-8");
    const expected = items.map((b) => alone.decode(b));
    // U+FEFF at a string's start: kept (a lone decode would drop it; the vocabulary keeps it).
    expected[3] = "\uFEFFbom first";
    expect(got?.type).toBe(9);
    expect((got!.value as unknown as { items: string[] }).items).toEqual(expected);
  });
});
