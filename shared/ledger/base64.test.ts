import { expect, test } from "bun:test";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { readUint64BE, uint64BE } from "./bytes.ts";

test("RFC 4648 test vectors", () => {
  const vectors: [string, string][] = [
    ["", ""],
    ["f", "Zg=="],
    ["fo", "Zm8="],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg=="],
    ["fooba", "Zm9vYmE="],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [plain, encoded] of vectors) {
    const bytes = new TextEncoder().encode(plain);
    expect(encodeBase64(bytes)).toBe(encoded);
    expect(decodeBase64(encoded)).toEqual(bytes);
  }
});

test("all byte values and large inputs round-trip", () => {
  const bytes = new Uint8Array(100_000).map((_, i) => (i * 7) % 256);
  expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
});

test("strict decoding rejects every non-canonical spelling", () => {
  for (const text of [
    "Zg",
    "Zg=",
    "Zg===",
    "Zh==",
    "Zm9=",
    "Zm8",
    "Zm 9v",
    " Zm9v",
    "Zm9v\n",
    "Zm9v=",
    "Zm-v",
    "Zm_v",
    "=Zm9",
    "Zm==Zm9v",
    "Z",
  ]) {
    expect(decodeBase64(text)).toBeUndefined();
  }
});

test("uint64 big-endian helpers", () => {
  expect([...uint64BE(0)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
  expect([...uint64BE(1679315147)]).toEqual([0, 0, 0, 0, 0x64, 0x18, 0x50, 0xcb]);
  expect([...uint64BE(2 ** 32 + 1)]).toEqual([0, 0, 0, 1, 0, 0, 0, 1]);
  expect(readUint64BE(uint64BE(2 ** 53 - 1), 0)).toBe(2 ** 53 - 1);
  expect(readUint64BE(Uint8Array.of(0, 0x20, 0, 0, 0, 0, 0, 0), 0)).toBeNull();
  expect(() => uint64BE(-1)).toThrow();
  expect(() => uint64BE(2 ** 53)).toThrow();
});
