/**
 * Checkpoints (c2sp.org/tlog-checkpoint): the note text of a signed tree head.
 *
 *     <origin>\n<tree size, decimal>\n<base64 root hash>\n[<extension line>\n...]
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { parseCanonicalDecimal } from "./bytes.ts";
import { LedgerFormatError } from "./errors.ts";
import { HASH_SIZE, type Hash } from "./hash.ts";
import { isValidNoteText, type ParsedNote, parseNote, type Vkey, verifyNoteSignature } from "./note.ts";

export interface Checkpoint {
  /** The log's identity, conventionally its schema-less URL prefix; never empty. */
  origin: string;
  /** Number of leaves, at most 2^53 - 1 here (JavaScript numbers). */
  size: number;
  /** RFC 9162 MTH of the tree's first `size` leaves. */
  rootHash: Hash;
  /** Opaque, non-empty lines after the root hash; rarely used. */
  extensions: string[];
}

function bad(message: string): LedgerFormatError {
  return new LedgerFormatError("bad_checkpoint", message);
}

/** The checkpoint note text (ends with a newline). Throws LedgerFormatError("bad_checkpoint") on bad fields. */
export function formatCheckpoint({
  origin,
  size,
  rootHash,
  extensions = [],
}: {
  origin: string;
  size: number;
  rootHash: Hash;
  extensions?: string[];
}): string {
  if (!Number.isSafeInteger(size) || size < 0) throw bad(`tree size must be a non-negative safe integer, got ${size}`);
  if (!(rootHash instanceof Uint8Array) || rootHash.length !== HASH_SIZE) throw bad(`root hash must be ${HASH_SIZE} bytes`);
  const lines = [origin, String(size), encodeBase64(rootHash), ...extensions];
  if (lines.some((line) => line.length === 0 || line.includes("\n"))) {
    throw bad("origin and extension lines must be non-empty single lines");
  }
  const text = `${lines.join("\n")}\n`;
  if (!isValidNoteText(text)) throw bad("checkpoint contains a control character or invalid Unicode");
  return text;
}

/**
 * Parses checkpoint note text: at least three non-empty lines, each newline-terminated; a canonical
 * decimal size (no leading zeros, at most 2^53 - 1); a root that is canonical base64 of 32 bytes.
 * Throws LedgerFormatError("bad_checkpoint") otherwise.
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (!text.endsWith("\n")) throw bad("checkpoint text must end with a newline");
  if (!isValidNoteText(text)) throw bad("checkpoint contains a control character or invalid Unicode");
  const lines = text.slice(0, -1).split("\n");
  const [origin, sizeLine, rootLine, ...extensions] = lines;
  if (origin === undefined || sizeLine === undefined || rootLine === undefined)
    throw bad("checkpoint needs origin, size and root hash lines");
  if (lines.some((line) => line.length === 0)) throw bad("checkpoint lines must be non-empty");
  const size = parseCanonicalDecimal(sizeLine);
  if (size === null) throw bad(`tree size must be a decimal without leading zeros, at most 2^53 - 1: ${JSON.stringify(sizeLine)}`);
  const rootHash = decodeBase64(rootLine);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) throw bad(`root hash must be canonical base64 of ${HASH_SIZE} bytes`);
  return { origin, size, rootHash, extensions };
}

/**
 * Parses a signed checkpoint note and checks the log's signature. Returns null when `logVkey` did not
 * validly sign it; throws LedgerFormatError when the note or checkpoint is malformed. The caller still
 * decides whether the origin is the log it expects (the spec recommends the log's key name match it).
 */
export function openCheckpoint(note: string, logVkey: string | Vkey): { checkpoint: Checkpoint; note: ParsedNote } | null {
  const parsed = parseNote(note);
  const checkpoint = parseCheckpoint(parsed.text);
  if (!verifyNoteSignature(parsed, logVkey)) return null;
  return { checkpoint, note: parsed };
}
