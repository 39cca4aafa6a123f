import { expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { LedgerFormatError } from "./errors.ts";
import { EMPTY_ROOT, hashEquals, isHash, leafHash, nodeHash } from "./hash.ts";
import { CT_ENTRIES, CT_ROOTS } from "./test-fixtures.ts";

test("the empty root is SHA-256 of the empty string", () => {
  expect(toHex(EMPTY_ROOT)).toBe("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

test("leaf hashes carry the 0x00 prefix (the CT one-leaf root)", () => {
  expect(toHex(leafHash(CT_ENTRIES[0]!))).toBe(toHex(CT_ROOTS[0]!));
  expect(toHex(leafHash(new Uint8Array(0)))).toBe("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
});

test("node hashes carry the 0x01 prefix (the CT two-leaf root)", () => {
  expect(toHex(nodeHash(leafHash(CT_ENTRIES[0]!), leafHash(CT_ENTRIES[1]!)))).toBe(toHex(CT_ROOTS[1]!));
});

test("nodeHash rejects children that are not 32 bytes", () => {
  const good = leafHash(new Uint8Array(0));
  expect(() => nodeHash(good, new Uint8Array(31))).toThrow(LedgerFormatError);
  expect(() => nodeHash(new Uint8Array(33), good)).toThrow(LedgerFormatError);
});

test("hashEquals and isHash", () => {
  expect(hashEquals(CT_ROOTS[0]!, CT_ROOTS[0]!.slice())).toBe(true);
  expect(hashEquals(CT_ROOTS[0]!, CT_ROOTS[1]!)).toBe(false);
  expect(hashEquals(CT_ROOTS[0]!, CT_ROOTS[0]!.slice(0, 31))).toBe(false);
  expect(isHash(new Uint8Array(32))).toBe(true);
  expect(isHash(new Uint8Array(31))).toBe(false);
  expect(isHash("x".repeat(32))).toBe(false);
});
