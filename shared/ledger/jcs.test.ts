import { describe, expect, test } from "bun:test";
import { fromHex } from "../crypto/hex.ts";
import { utf8 } from "./bytes.ts";
import { LedgerFormatError } from "./errors.ts";
import { canonicalBytes, canonicalJson, isCanonicalJson } from "./jcs.ts";

function fromBits(hex: string): number {
  return new DataView(fromHex(hex).buffer).getFloat64(0);
}

function expectRejected(value: unknown): void {
  try {
    canonicalJson(value);
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerFormatError);
    expect((error as LedgerFormatError).code).toBe("not_canonical_json");
    return;
  }
  throw new Error("expected not_canonical_json");
}

describe("RFC 8785 examples", () => {
  test("§3.2.2: the sample object", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001], "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/", "literals": [null, true, false]}',
    );
    expect(canonicalJson(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  test("§3.2.3: properties sorted by UTF-16 code units", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    expect(canonicalJson(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  test("§3.2.4: UTF-8 bytes of the sorting example's canonical form", () => {
    const bytes = canonicalBytes({ "\u20ac": "Euro Sign", "\r": "Carriage Return" });
    expect([...bytes.slice(0, 6)]).toEqual([0x7b, 0x22, 0x5c, 0x72, 0x22, 0x3a]);
    expect(new TextDecoder().decode(bytes)).toBe('{"\\r":"Carriage Return","€":"Euro Sign"}');
  });

  test("Appendix B: number serialization", () => {
    const vectors: [string, string][] = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"],
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, expected] of vectors) expect(canonicalJson(fromBits(bits))).toBe(expected);
  });

  test("Appendix B: NaN and Infinity have no canonical form", () => {
    expectRejected(fromBits("7fffffffffffffff"));
    expectRejected(fromBits("7ff0000000000000"));
    expectRejected(Number.NEGATIVE_INFINITY);
  });
});

describe("canonicalJson", () => {
  test("nests, sorts at every level, omits undefined members", () => {
    expect(canonicalJson({ z: [{ b: 1, a: 2 }], a: { d: false, c: null }, u: undefined })).toBe(
      '{"a":{"c":null,"d":false},"z":[{"a":2,"b":1}]}',
    );
    expect(canonicalJson([])).toBe("[]");
    expect(canonicalJson({})).toBe("{}");
    expect(canonicalJson("\u2028\u0000\u001f\u007f")).toBe('"\u2028\\u0000\\u001f\u007f"');
    expect(canonicalJson(Object.create(null))).toBe("{}");
  });

  test("shared (non-cyclic) references are fine", () => {
    const shared = { x: 1 };
    expect(canonicalJson({ a: shared, b: [shared, shared] })).toBe('{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  });

  test("rejects values JSON cannot carry exactly", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const holey: unknown[] = [1];
    holey.length = 3;
    const cyclicArray: unknown[] = [];
    cyclicArray.push(cyclicArray);
    for (const value of [
      10n,
      () => 1,
      Symbol("s"),
      undefined,
      [undefined],
      holey,
      { f: () => 1 },
      { n: 1n },
      cyclic,
      cyclicArray,
      new Date(0),
      new Map(),
      new Uint8Array(1),
      "\ud800",
      { "\udc00": 1 },
      Number.NaN,
    ]) {
      expectRejected(value);
    }
  });
});

describe("isCanonicalJson", () => {
  test("accepts canonical bytes", () => {
    for (const text of ['{"a":1,"b":[true,null,"x"]}', "[]", "0", '"é"', '{"\\r":1,"1":2}', "1e+21", "-5e-324"]) {
      expect(isCanonicalJson(utf8(text))).toBe(true);
    }
  });

  test("rejects anything that re-canonicalizes differently or does not parse", () => {
    for (const text of [
      '{"b":1,"a":2}',
      '{"a": 1}',
      " 0",
      "1.0",
      "1E21",
      "0.10",
      '"\\u00e9"',
      '"\\/"',
      '{"a":1,"a":1}',
      "\ufeff{}",
      "{",
      "",
      "1e400",
      '"\\ud800"',
      "-0",
    ]) {
      expect(isCanonicalJson(utf8(text))).toBe(false);
    }
    expect(isCanonicalJson(Uint8Array.of(0x22, 0xff, 0x22))).toBe(false);
  });
});
