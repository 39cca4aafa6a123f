import { describe, expect, test } from "bun:test";
import { BYTE_TO_CHAR, bytesToTokenText, CHAR_TO_BYTE, tokenTextToBytes } from "./byte-encoding.ts";

describe("GPT-2 bytes_to_unicode", () => {
  test("a bijection onto 256 single characters", () => {
    expect(new Set(BYTE_TO_CHAR).size).toBe(256);
    expect(BYTE_TO_CHAR.every((c) => c.length === 1)).toBe(true);
    expect(CHAR_TO_BYTE.size).toBe(256);
  });

  test("well-known stand-ins", () => {
    expect(BYTE_TO_CHAR[0x20]).toBe("Ġ"); // U+0120
    expect(BYTE_TO_CHAR[0x0a]).toBe("Ċ"); // U+010A
    expect(BYTE_TO_CHAR[0x09]).toBe("ĉ");
    expect(BYTE_TO_CHAR[0x00]).toBe("Ā");
    expect(BYTE_TO_CHAR[0x41]).toBe("A");
    expect(BYTE_TO_CHAR[0xad]).toBe("Ń"); // the soft hyphen is the 68th remapped byte: U+0100 + 67
    expect(BYTE_TO_CHAR[0xff]).toBe("ÿ");
  });

  test("round trip over all bytes; foreign characters are rejected", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(tokenTextToBytes(bytesToTokenText(all))).toEqual(all);
    expect(bytesToTokenText(new TextEncoder().encode(" héllo\n"))).toBe("ĠhÃ©lloĊ");
    expect(tokenTextToBytes("日")).toBeUndefined();
  });
});
