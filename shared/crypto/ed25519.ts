/**
 * ed25519 helpers over @noble/ed25519 (async API: it hashes with WebCrypto SHA-512, which Bun
 * and workerd both provide).
 */
import * as ed from "@noble/ed25519";
import { fromHex, toHex } from "./hex.ts";

/** A new random 32-byte secret key. */
export function randomSecretKey(): Uint8Array {
  return ed.utils.randomSecretKey();
}

/** Public key (hex) of a secret key. */
export async function publicKeyHex(secretKey: Uint8Array): Promise<string> {
  return toHex(await ed.getPublicKeyAsync(secretKey));
}

/** Signature (hex) of a message. */
export async function signHex(message: Uint8Array, secretKey: Uint8Array): Promise<string> {
  return toHex(await ed.signAsync(message, secretKey));
}

/** True when `signatureHex` is a valid signature of `message` by `publicKeyHex`; never throws. */
export async function verifyHex(signatureHex: string, message: Uint8Array, publicKeyHex: string): Promise<boolean> {
  try {
    return await ed.verifyAsync(fromHex(signatureHex), message, fromHex(publicKeyHex));
  } catch {
    return false;
  }
}
