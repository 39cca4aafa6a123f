/**
 * Ed25519 checkpoint cosignatures, cosignature/v1 (c2sp.org/tlog-cosignature): a witness's signature
 * line on a checkpoint, stating that at `timestamp` this was the largest consistent tree it had seen
 * for the origin.
 *
 * Key ID: SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4]. Signature bytes after the key ID:
 * u64 big-endian timestamp ‖ Ed25519 signature over
 *
 *     cosignature/v1\ntime <timestamp>\n<checkpoint note text>
 */
import { bytesEqual, concatBytes, readUint64BE, uint64BE, utf8 } from "./bytes.ts";
import { parseCheckpoint } from "./checkpoint.ts";
import {
  ED25519_SECRET_KEY_SIZE,
  ED25519_SIGNATURE_SIZE,
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify,
  ed25519VerifyFast,
} from "./ed25519-sync.ts";
import { LedgerFormatError } from "./errors.ts";
import {
  formatSignatureLine,
  formatVkeyOfType,
  isValidKeyName,
  type NoteSignature,
  noteKeyId,
  SIGNATURE_TYPE_COSIGNATURE,
} from "./note.ts";

/** The domain-separating first line of every cosignature/v1 message. */
export const COSIGNATURE_V1_HEADER = "cosignature/v1";
const TIMESTAMP_SIZE = 8;

/** The key ID of a witness key: signature type 0x04, not Ed25519's 0x01, so the two never collide. */
export function witnessKeyId(name: string, publicKey: Uint8Array): Uint8Array {
  return noteKeyId(name, SIGNATURE_TYPE_COSIGNATURE, publicKey);
}

/** The vkey of a witness: `<name>+<hex key ID>+<base64(0x04 ‖ public key)>`. */
export function formatWitnessVkey(name: string, publicKey: Uint8Array): string {
  return formatVkeyOfType(name, SIGNATURE_TYPE_COSIGNATURE, publicKey);
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new LedgerFormatError("bad_checkpoint", `cosignature timestamp must be non-negative POSIX seconds, got ${timestamp}`);
  }
}

/**
 * The message a cosigner signs: "cosignature/v1\ntime <timestamp>\n" then the whole checkpoint note
 * text (extension lines included, signature lines excluded). Throws LedgerFormatError("bad_checkpoint")
 * when the text does not end with a newline or the timestamp is not a non-negative safe integer.
 */
export function cosignatureMessage(checkpointText: string, timestamp: number): string {
  checkTimestamp(timestamp);
  if (!checkpointText.endsWith("\n")) throw new LedgerFormatError("bad_checkpoint", "checkpoint text must end with a newline");
  return `${COSIGNATURE_V1_HEADER}\ntime ${timestamp}\n${checkpointText}`;
}

/**
 * A cosignature line for a checkpoint (its note text), by the witness key `secretKey` (32-byte seed)
 * at `timestamp` (POSIX seconds). Throws LedgerFormatError for a malformed checkpoint, name or key.
 */
export function signCosignature(checkpointText: string, name: string, secretKey: Uint8Array, timestamp: number): string {
  parseCheckpoint(checkpointText);
  if (!isValidKeyName(name)) throw new LedgerFormatError("bad_key", `invalid key name ${JSON.stringify(name)}`);
  if (secretKey.length !== ED25519_SECRET_KEY_SIZE) {
    throw new LedgerFormatError("bad_key", `Ed25519 secret key must be ${ED25519_SECRET_KEY_SIZE} bytes, got ${secretKey.length}`);
  }
  const signature = ed25519Sign(utf8(cosignatureMessage(checkpointText, timestamp)), secretKey);
  return formatSignatureLine(name, witnessKeyId(name, ed25519PublicKey(secretKey)), concatBytes(uint64BE(timestamp), signature));
}

/**
 * The timestamp a cosignature line claims, without verifying it; null when the line is not shaped like
 * a cosignature/v1 (8-byte timestamp + 64-byte signature) or the timestamp exceeds 2^53 - 1.
 */
export function cosignatureTimestamp(signature: NoteSignature): number | null {
  if (signature.signature.length !== TIMESTAMP_SIZE + ED25519_SIGNATURE_SIZE) return null;
  return readUint64BE(signature.signature, 0);
}

/**
 * Verifies one parsed signature line as the cosignature of `witnessName` / `witnessPublicKey` on the
 * checkpoint note text. Returns the cosigned timestamp when valid, else null (another key's line, a
 * wrong length, a bad signature). Timestamps above 2^53 - 1 are rejected: they are far beyond any
 * real clock and a number cannot hold them exactly. Whether the timestamp is acceptably recent is the
 * caller's policy.
 */
export function verifyCosignature(
  signature: NoteSignature,
  checkpointText: string,
  witnessName: string,
  witnessPublicKey: Uint8Array,
): number | null {
  if (signature.name !== witnessName || !bytesEqual(signature.keyId, witnessKeyId(witnessName, witnessPublicKey))) return null;
  const timestamp = cosignatureTimestamp(signature);
  if (timestamp === null || !checkpointText.endsWith("\n")) return null;
  const message = utf8(cosignatureMessage(checkpointText, timestamp));
  return ed25519Verify(signature.signature.slice(TIMESTAMP_SIZE), message, witnessPublicKey) ? timestamp : null;
}

/** {@link verifyCosignature} with the platform's native Ed25519 where there is one (for servers checking many). */
export async function verifyCosignatureFast(
  signature: NoteSignature,
  checkpointText: string,
  witnessName: string,
  witnessPublicKey: Uint8Array,
): Promise<number | null> {
  if (signature.name !== witnessName || !bytesEqual(signature.keyId, witnessKeyId(witnessName, witnessPublicKey))) return null;
  const timestamp = cosignatureTimestamp(signature);
  if (timestamp === null || !checkpointText.endsWith("\n")) return null;
  const message = utf8(cosignatureMessage(checkpointText, timestamp));
  return (await ed25519VerifyFast(signature.signature.slice(TIMESTAMP_SIZE), message, witnessPublicKey)) ? timestamp : null;
}
