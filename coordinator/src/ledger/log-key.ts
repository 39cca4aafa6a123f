/**
 * The log's signing key, from the Worker secret ARIA_LEDGER_KEY in the signed-note private-key
 * form `PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 ‖ 32-byte seed)>` (docs/ledger.md).
 * The key name is the log's origin.
 */

import { toHex } from "../../../shared/crypto/hex.ts";
import { decodeBase64 } from "../../../shared/ledger/base64.ts";
import { ed25519PublicKey } from "../../../shared/ledger/ed25519-sync.ts";
import { formatVkey, isValidKeyName, noteKeyId, SIGNATURE_TYPE_ED25519 } from "../../../shared/ledger/note.ts";

export interface LogKey {
  /** Key name and checkpoint origin. */
  name: string;
  secretKey: Uint8Array;
  publicKey: Uint8Array;
  /** The verifier key, `<name>+<key id>+<base64(0x01 ‖ public key)>`. */
  vkey: string;
}

/** Parse the secret; throws Error with a one-line reason (never echoing the key). */
export function parseLogKey(secret: string): LogKey {
  // The base64 key may itself contain "+": split off the first four fields only.
  const m = /^PRIVATE\+KEY\+([^+]+)\+([0-9a-f]{8})\+(\S+)$/.exec(secret.trim());
  if (!m) throw new Error("ARIA_LEDGER_KEY must look like PRIVATE+KEY+<name>+<key id>+<base64 key>");
  const [, name, keyIdHex, encoded] = m as unknown as [string, string, string, string];
  if (!isValidKeyName(name)) throw new Error("ARIA_LEDGER_KEY: the key name is not a valid note key name");
  const raw = decodeBase64(encoded);
  if (raw?.length !== 33 || raw[0] !== SIGNATURE_TYPE_ED25519)
    throw new Error("ARIA_LEDGER_KEY: expected an Ed25519 key (0x01 and 32 bytes)");
  const secretKey = raw.slice(1);
  const publicKey = ed25519PublicKey(secretKey);
  if (toHex(noteKeyId(name, SIGNATURE_TYPE_ED25519, publicKey)) !== keyIdHex)
    throw new Error("ARIA_LEDGER_KEY: the key id does not match the key");
  return { name, secretKey, publicKey, vkey: formatVkey(name, publicKey) };
}

/** The configured key, or null (logged once) when none is set or it is unusable. */
export function loadLogKey(secret: string | undefined): LogKey | null {
  if (!secret) {
    console.warn("ledger: ARIA_LEDGER_KEY is not set; entries are queued but no checkpoint is signed");
    return null;
  }
  try {
    return parseLogKey(secret);
  } catch (err) {
    console.error(`ledger: ${(err as Error).message}; entries are queued but no checkpoint is signed`);
    return null;
  }
}
