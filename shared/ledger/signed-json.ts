/**
 * Node-signed statements (receipts, consent contracts): ed25519 by the node key over a
 * domain-separating prefix and the body's canonical JSON (RFC 8785), so one signature can never
 * be taken for another kind of statement, and a body re-serialized differently still verifies.
 */
import { z } from "zod";
import { fromHex, toHex } from "../crypto/hex.ts";
import { concatBytes, utf8 } from "./bytes.ts";
import { ed25519Sign, ed25519VerifyFast } from "./ed25519-sync.ts";
import { canonicalBytes } from "./jcs.ts";

/** A schema for `bytes` bytes of lowercase hex (node ids, hashes, signatures). */
export const hexBytes = (bytes: number) =>
  z.string().regex(new RegExp(`^[0-9a-f]{${bytes * 2}}$`), `expected ${bytes} bytes of lowercase hex`);

function signedBytes(prefix: string, body: unknown): Uint8Array {
  return concatBytes(utf8(prefix), canonicalBytes(body));
}

/** The signature (hex) of `body` under `prefix`. */
export function signCanonical(prefix: string, body: unknown, secretKey: Uint8Array): string {
  return toHex(ed25519Sign(signedBytes(prefix, body), secretKey));
}

/** True when `signatureHex` is `nodeHex`'s signature of `body` under `prefix`; never throws. */
export async function canonicalSignatureHolds(prefix: string, body: unknown, signatureHex: string, nodeHex: string): Promise<boolean> {
  try {
    return await ed25519VerifyFast(fromHex(signatureHex), signedBytes(prefix, body), fromHex(nodeHex));
  } catch {
    return false;
  }
}
