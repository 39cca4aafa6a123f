/**
 * The Merkle tree hashes of RFC 9162 §2.1.1 (the same as RFC 6962 §2.1) with SHA-256. The 0x00 / 0x01
 * prefixes separate leaves from interior nodes, so no leaf can be passed off as a subtree.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesEqual } from "./bytes.ts";
import { LedgerFormatError } from "./errors.ts";

/** A SHA-256 digest: always exactly {@link HASH_SIZE} bytes. */
export type Hash = Uint8Array;

export const HASH_SIZE = 32;

const LEAF_PREFIX = 0x00;
const NODE_PREFIX = 0x01;

/** MTH({d}) = SHA-256(0x00 ‖ entry): the hash of one log entry. */
export function leafHash(entry: Uint8Array): Hash {
  const input = new Uint8Array(entry.length + 1);
  input[0] = LEAF_PREFIX;
  input.set(entry, 1);
  return sha256(input);
}

/** SHA-256(0x01 ‖ left ‖ right): the hash of an interior node from its two children. */
export function nodeHash(left: Hash, right: Hash): Hash {
  assertHash(left, "left child");
  assertHash(right, "right child");
  const input = new Uint8Array(1 + 2 * HASH_SIZE);
  input[0] = NODE_PREFIX;
  input.set(left, 1);
  input.set(right, 1 + HASH_SIZE);
  return sha256(input);
}

/** MTH({}) = SHA-256(""): the root of the empty tree. */
export const EMPTY_ROOT: Hash = sha256(new Uint8Array(0));

/** True when both are the same bytes (hashes are public, so this need not be constant-time). */
export function hashEquals(a: Uint8Array, b: Uint8Array): boolean {
  return bytesEqual(a, b);
}

/** True when `value` is a Uint8Array of exactly 32 bytes. */
export function isHash(value: unknown): value is Hash {
  return value instanceof Uint8Array && value.length === HASH_SIZE;
}

/** Throws LedgerFormatError("bad_hash") unless `value` is a 32-byte hash; `what` names it in the message. */
export function assertHash(value: unknown, what: string): asserts value is Hash {
  if (!isHash(value)) {
    const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
    throw new LedgerFormatError("bad_hash", `${what} must be a ${HASH_SIZE}-byte hash, got ${got}`);
  }
}
