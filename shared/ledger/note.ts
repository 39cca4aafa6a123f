/**
 * Signed notes (c2sp.org/signed-note): text ending in a newline, a blank line, then one or more
 * signature lines "— <key name> <base64(key ID ‖ signature)>". Any signature type parses; this module
 * signs and verifies Ed25519 (type 0x01). Timestamped cosignatures (type 0x04) live in cosignature.ts.
 */

import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "../crypto/hex.ts";
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { bytesEqual, concatBytes, decodeUtf8Strict, utf8 } from "./bytes.ts";
import { ED25519_PUBLIC_KEY_SIZE, ED25519_SECRET_KEY_SIZE, ed25519PublicKey, ed25519Sign, ed25519Verify } from "./ed25519-sync.ts";
import { LedgerFormatError } from "./errors.ts";

/** Signature type byte of plain Ed25519 note signatures. */
export const SIGNATURE_TYPE_ED25519 = 0x01;
/** Signature type byte of timestamped Ed25519 checkpoint cosignatures (c2sp.org/tlog-cosignature). */
export const SIGNATURE_TYPE_COSIGNATURE = 0x04;
/**
 * Most signature lines a note may carry. The spec requires accepting at least 16 and asks verifiers
 * to cap the count; 100 leaves room for many witnesses while bounding the work a note can cause.
 */
export const MAX_NOTE_SIGNATURES = 100;
/** Bytes of a key ID. */
export const KEY_ID_SIZE = 4;

/** Em dash (U+2014) and a space: how every signature line starts. */
const SIGNATURE_PREFIX = "\u2014 ";
/** ASCII control characters other than newline, which notes must not contain. */
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
/** Unpaired UTF-16 surrogates: such a string has no UTF-8 encoding, so it cannot be a note. */
const LONE_SURROGATE = /\p{Surrogate}/u;
/** Unicode spaces, which key names must not contain. */
const UNICODE_SPACE = /\p{White_Space}/u;

/** A parsed verifier key: `<name>+<hex key ID>+<base64(type ‖ public key)>`. */
export interface Vkey {
  name: string;
  keyId: Uint8Array;
  type: number;
  publicKey: Uint8Array;
}

/** One signature line of a note, undecoded beyond its framing. */
export interface NoteSignature {
  name: string;
  /** The 4-byte key ID that starts the decoded signature. */
  keyId: Uint8Array;
  /** The decoded signature after the key ID (for cosignatures: timestamp ‖ signature). */
  signature: Uint8Array;
  /** The line as it appeared, newline included, so it can be copied into another note verbatim. */
  line: string;
}

export interface ParsedNote {
  /** The signed text, final newline included, blank separator line excluded. */
  text: string;
  signatures: NoteSignature[];
}

/** True for a usable key name: non-empty, no Unicode spaces, no "+", no control characters, valid UTF-16. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !name.includes("+") && !UNICODE_SPACE.test(name) && !FORBIDDEN_CONTROL.test(name) && !LONE_SURROGATE.test(name);
}

/** Why `text` cannot be the text of a note, or null when it can (non-empty, newline-terminated, clean). */
function noteTextProblem(text: string): string | null {
  if (!text.endsWith("\n")) return "note text must end with a newline";
  if (FORBIDDEN_CONTROL.test(text)) return "note text contains a control character";
  if (LONE_SURROGATE.test(text)) return "note text is not valid Unicode (lone surrogate)";
  return null;
}

/** True when `text` can be signed as note text. */
export function isValidNoteText(text: string): boolean {
  return noteTextProblem(text) === null;
}

/**
 * The key ID: the first 4 bytes of SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key).
 * @example noteKeyId("PeterNeumann", 0x01, publicKey) → bytes c7 4f 20 a3
 */
export function noteKeyId(name: string, type: number, publicKey: Uint8Array): Uint8Array {
  if (!Number.isInteger(type) || type < 0 || type > 0xff)
    throw new LedgerFormatError("bad_vkey", `signature type must be a byte, got ${type}`);
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, type), publicKey)).slice(0, KEY_ID_SIZE);
}

function checkKeyName(name: string, code: "bad_vkey" | "bad_key"): void {
  if (!isValidKeyName(name)) throw new LedgerFormatError(code, `invalid key name ${JSON.stringify(name)}`);
}

/** Public key size for the signature types this library understands; undefined for others. */
function publicKeySizeOf(type: number): number | undefined {
  return type === SIGNATURE_TYPE_ED25519 || type === SIGNATURE_TYPE_COSIGNATURE ? ED25519_PUBLIC_KEY_SIZE : undefined;
}

/** A vkey for a public key of the given signature type (0x01 Ed25519 or 0x04 cosignature). */
export function formatVkeyOfType(name: string, type: number, publicKey: Uint8Array): string {
  checkKeyName(name, "bad_vkey");
  const size = publicKeySizeOf(type);
  if (size === undefined) throw new LedgerFormatError("bad_vkey", `unsupported signature type 0x${type.toString(16)}`);
  if (publicKey.length !== size) throw new LedgerFormatError("bad_vkey", `public key must be ${size} bytes, got ${publicKey.length}`);
  return `${name}+${toHex(noteKeyId(name, type, publicKey))}+${encodeBase64(concatBytes(Uint8Array.of(type), publicKey))}`;
}

/**
 * The vkey of an Ed25519 note-signing key.
 * @example formatVkey("PeterNeumann", publicKey) → "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
 */
export function formatVkey(name: string, publicKey: Uint8Array): string {
  return formatVkeyOfType(name, SIGNATURE_TYPE_ED25519, publicKey);
}

/**
 * Parses a vkey. Accepts the types this library verifies (0x01 Ed25519, 0x04 cosignature), with a
 * 32-byte key and the key ID the spec derives from name, type and key. Throws
 * LedgerFormatError("bad_vkey") for anything else, including a mismatched key ID, so a typo in
 * configuration fails loudly instead of silently matching no signature.
 */
export function parseVkey(vkey: string): Vkey {
  const bad = (why: string) => new LedgerFormatError("bad_vkey", `${why}: ${JSON.stringify(vkey)}`);
  // The name and hex ID cannot contain "+"; the base64 key can, so split only twice.
  const first = vkey.indexOf("+");
  const second = first < 0 ? -1 : vkey.indexOf("+", first + 1);
  if (second < 0) throw bad("a vkey is <name>+<hex key ID>+<base64 key>");
  const name = vkey.slice(0, first);
  const idHex = vkey.slice(first + 1, second);
  if (!isValidKeyName(name)) throw bad("invalid key name");
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw bad("key ID must be 8 lowercase hex digits");
  const material = decodeBase64(vkey.slice(second + 1));
  if (material === undefined || material.length < 2) throw bad("key must be canonical base64 of type ‖ public key");
  const type = material[0]!;
  const publicKey = material.slice(1);
  const size = publicKeySizeOf(type);
  if (size === undefined) throw bad(`unsupported signature type 0x${type.toString(16).padStart(2, "0")}`);
  if (publicKey.length !== size) throw bad(`public key must be ${size} bytes, got ${publicKey.length}`);
  const keyId = fromHex(idHex);
  if (!bytesEqual(keyId, noteKeyId(name, type, publicKey))) throw bad("key ID does not match name and key");
  return { name, keyId, type, publicKey };
}

/** Formats a signature line for an already computed key ID and signature bytes. */
export function formatSignatureLine(name: string, keyId: Uint8Array, signature: Uint8Array): string {
  if (!isValidKeyName(name)) throw new LedgerFormatError("bad_signature_line", `invalid key name ${JSON.stringify(name)}`);
  if (keyId.length !== KEY_ID_SIZE) throw new LedgerFormatError("bad_signature_line", `key ID must be ${KEY_ID_SIZE} bytes`);
  if (signature.length === 0) throw new LedgerFormatError("bad_signature_line", "signature is empty");
  return `${SIGNATURE_PREFIX}${name} ${encodeBase64(concatBytes(keyId, signature))}\n`;
}

/**
 * Signs note text with an Ed25519 secret key (the 32-byte RFC 8032 seed). Returns the signature line,
 * newline included: "— <name> <base64(key ID ‖ signature)>\n".
 */
export function signNoteText(text: string, name: string, secretKey: Uint8Array): string {
  const problem = noteTextProblem(text);
  if (problem !== null) throw new LedgerFormatError("bad_note", problem);
  checkKeyName(name, "bad_key");
  if (secretKey.length !== ED25519_SECRET_KEY_SIZE) {
    throw new LedgerFormatError("bad_key", `Ed25519 secret key must be ${ED25519_SECRET_KEY_SIZE} bytes, got ${secretKey.length}`);
  }
  const keyId = noteKeyId(name, SIGNATURE_TYPE_ED25519, ed25519PublicKey(secretKey));
  return formatSignatureLine(name, keyId, ed25519Sign(utf8(text), secretKey));
}

/** Parses one signature line, without its trailing newline. */
function parseSignatureLine(line: string): NoteSignature {
  const bad = (why: string) => new LedgerFormatError("bad_signature_line", `${why}: ${JSON.stringify(line)}`);
  if (!line.startsWith(SIGNATURE_PREFIX)) throw bad("signature line must start with an em dash and a space");
  const rest = line.slice(SIGNATURE_PREFIX.length);
  const space = rest.indexOf(" ");
  if (space < 0) throw bad("signature line needs a key name and a signature");
  const name = rest.slice(0, space);
  if (!isValidKeyName(name)) throw bad("invalid key name");
  const decoded = decodeBase64(rest.slice(space + 1));
  if (decoded === undefined) throw bad("signature is not canonical base64");
  if (decoded.length <= KEY_ID_SIZE) throw bad("signature is too short to hold a key ID and a signature");
  return { name, keyId: decoded.slice(0, KEY_ID_SIZE), signature: decoded.slice(KEY_ID_SIZE), line: `${line}\n` };
}

/**
 * Parses a block of signature lines, each ending in a newline (a note's signature section, or a
 * witness's add-checkpoint response). Throws LedgerFormatError("bad_signature_line") on any bad line,
 * or when there are none or more than {@link MAX_NOTE_SIGNATURES}.
 */
export function parseSignatureLines(block: string): NoteSignature[] {
  if (block.length === 0) throw new LedgerFormatError("bad_signature_line", "no signature lines");
  if (!block.endsWith("\n")) throw new LedgerFormatError("bad_signature_line", "signature lines must end with a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_NOTE_SIGNATURES) {
    throw new LedgerFormatError("bad_signature_line", `more than ${MAX_NOTE_SIGNATURES} signature lines`);
  }
  return lines.map(parseSignatureLine);
}

/**
 * Parses a signed note. The text is everything up to and including the newline before the *last*
 * blank line; after it come 1..{@link MAX_NOTE_SIGNATURES} signature lines. Throws
 * LedgerFormatError("bad_note") for a note without that shape or with control characters or invalid
 * Unicode, ("bad_signature_line") for a malformed line. Signatures are not verified here.
 */
export function parseNote(note: string): ParsedNote {
  if (FORBIDDEN_CONTROL.test(note)) throw new LedgerFormatError("bad_note", "note contains a control character other than newline");
  if (LONE_SURROGATE.test(note)) throw new LedgerFormatError("bad_note", "note is not valid Unicode (lone surrogate)");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new LedgerFormatError("bad_note", "note has no blank line between text and signatures");
  const signatures = note.slice(split + 2);
  if (signatures.length === 0) throw new LedgerFormatError("bad_note", "note has no signatures");
  return { text: note.slice(0, split + 1), signatures: parseSignatureLines(signatures) };
}

/** {@link parseNote} for raw bytes, which must be valid UTF-8 (else LedgerFormatError("bad_note")). */
export function parseNoteBytes(bytes: Uint8Array): ParsedNote {
  let note: string;
  try {
    note = decodeUtf8Strict(bytes);
  } catch (error) {
    throw new LedgerFormatError("bad_note", "note is not valid UTF-8", { cause: error });
  }
  return parseNote(note);
}

/**
 * A signed note: the text, the blank line, the signature lines (each as signNoteText returns it).
 * Throws LedgerFormatError for bad text ("bad_note") or lines ("bad_signature_line").
 */
export function formatNote(text: string, signatureLines: readonly string[]): string {
  const problem = noteTextProblem(text);
  if (problem !== null) throw new LedgerFormatError("bad_note", problem);
  const block = signatureLines.join("");
  for (const line of signatureLines) {
    if (!line.endsWith("\n") || line.indexOf("\n") !== line.length - 1) {
      throw new LedgerFormatError("bad_signature_line", `a signature line is one line ending in a newline: ${JSON.stringify(line)}`);
    }
  }
  parseSignatureLines(block);
  return `${text}\n${block}`;
}

/**
 * True when the note carries a signature by the Ed25519 key `vkey` (matched by key name and key ID)
 * and every signature line matching that key verifies; the spec says a note with a failing signature
 * from a known key should be rejected, so one bad duplicate spoils it. Lines of other keys are ignored.
 * Vkeys of other types (such as 0x04 cosigner keys) never verify here: use verifyCosignature.
 * Throws only when `vkey` is a malformed string.
 */
export function verifyNoteSignature(parsed: ParsedNote, vkey: string | Vkey): boolean {
  const key = typeof vkey === "string" ? parseVkey(vkey) : vkey;
  if (key.type !== SIGNATURE_TYPE_ED25519) return false;
  const matching = parsed.signatures.filter((sig) => sig.name === key.name && bytesEqual(sig.keyId, key.keyId));
  if (matching.length === 0) return false;
  const message = utf8(parsed.text);
  return matching.every((sig) => ed25519Verify(sig.signature, message, key.publicKey));
}
