/**
 * Synchronous Ed25519 (RFC 8032) for note signing: @noble/ed25519's sync API needs a SHA-512 hook,
 * installed here once. Sync matters because signing and verifying notes sits inside parsers and
 * verifiers that return plain values.
 */
import * as ed from "@noble/ed25519";
import { sha512 } from "@noble/hashes/sha2.js";

ed.hashes.sha512 = sha512;

export const ED25519_PUBLIC_KEY_SIZE = 32;
export const ED25519_SECRET_KEY_SIZE = 32;
export const ED25519_SIGNATURE_SIZE = 64;

/** The 32-byte public key of a 32-byte secret key (the RFC 8032 seed). */
export function ed25519PublicKey(secretKey: Uint8Array): Uint8Array {
  return ed.getPublicKey(secretKey);
}

/** The 64-byte deterministic signature of `message`. */
export function ed25519Sign(message: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return ed.sign(message, secretKey);
}

/**
 * True when `signature` is valid for `message` under `publicKey`; never throws. Uses RFC 8032 strict
 * decoding (canonical encodings, no small-order keys) rather than the laxer ZIP-215 rules, so one
 * signature line has one meaning.
 */
export function ed25519Verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== ED25519_SIGNATURE_SIZE || publicKey.length !== ED25519_PUBLIC_KEY_SIZE) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * {@link ed25519Verify} through the platform's native WebCrypto Ed25519 where there is one (Bun,
 * workerd, current browsers): about 20× faster than the pure-script path it falls back to. For
 * hot paths such as checking every receipt of every completion.
 */
export async function ed25519VerifyFast(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  if (signature.length !== ED25519_SIGNATURE_SIZE || publicKey.length !== ED25519_PUBLIC_KEY_SIZE) return false;
  const key = await nativeKey(publicKey);
  if (!key) return ed25519Verify(signature, message, publicKey);
  try {
    return await crypto.subtle.verify("Ed25519", key, signature as Uint8Array<ArrayBuffer>, message as Uint8Array<ArrayBuffer>);
  } catch {
    return false;
  }
}

/** Imported keys by public key: a log's receipts come from few nodes, and importing costs as much as verifying. */
type NativeKey = Awaited<ReturnType<typeof crypto.subtle.importKey>>;
const nativeKeys = new Map<string, Promise<NativeKey | null>>();
const MAX_CACHED_KEYS = 4096;

function nativeKey(publicKey: Uint8Array): Promise<NativeKey | null> {
  const id = String.fromCharCode(...publicKey);
  let key = nativeKeys.get(id);
  if (!key) {
    if (nativeKeys.size >= MAX_CACHED_KEYS) nativeKeys.clear();
    key = crypto.subtle
      .importKey("raw", publicKey.slice() as Uint8Array<ArrayBuffer>, { name: "Ed25519" }, false, ["verify"])
      .catch(() => null);
    nativeKeys.set(id, key);
  }
  return key;
}
