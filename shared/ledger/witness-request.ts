/**
 * The request body of a tlog-witness add-checkpoint call (c2sp.org/tlog-witness):
 *
 *     old <old size>\n
 *     <base64 consistency proof hash>\n      (0..63 lines)
 *     \n
 *     <signed checkpoint note>
 */
import { decodeBase64, encodeBase64 } from "./base64.ts";
import { parseCanonicalDecimal } from "./bytes.ts";
import { type Checkpoint, parseCheckpoint } from "./checkpoint.ts";
import { LedgerFormatError } from "./errors.ts";
import { assertHash, HASH_SIZE, type Hash } from "./hash.ts";
import { type ParsedNote, parseNote } from "./note.ts";

/** Most consistency proof lines a request may carry (a proof in a tree of 2^63 leaves is shorter). */
export const MAX_ADD_CHECKPOINT_PROOF = 63;

export interface AddCheckpointRequest {
  /** Size of the checkpoint the witness last cosigned for this origin, as the client believes; 0 if none. */
  oldSize: number;
  /** RFC 9162 consistency proof from oldSize to the checkpoint's size (empty when oldSize is 0). */
  proof: Hash[];
  /** The whole signed checkpoint note, signature lines included. */
  checkpoint: string;
}

export interface ParsedAddCheckpoint extends AddCheckpointRequest {
  /** The checkpoint note, parsed (signatures not yet verified). */
  note: ParsedNote;
  /** The checkpoint's fields. */
  tree: Checkpoint;
}

function bad(message: string): LedgerFormatError {
  return new LedgerFormatError("bad_witness_request", message);
}

/** The add-checkpoint request body. Throws LedgerFormatError("bad_witness_request") for bad fields. */
export function formatAddCheckpoint({ oldSize, proof, checkpoint }: AddCheckpointRequest): string {
  if (!Number.isSafeInteger(oldSize) || oldSize < 0) throw bad(`old size must be a non-negative safe integer, got ${oldSize}`);
  if (proof.length > MAX_ADD_CHECKPOINT_PROOF) throw bad(`at most ${MAX_ADD_CHECKPOINT_PROOF} proof hashes, got ${proof.length}`);
  for (const [i, hash] of proof.entries()) assertHash(hash, `proof hash ${i}`);
  if (!checkpoint.endsWith("\n")) throw bad("checkpoint note must end with a newline");
  return `old ${oldSize}\n${proof.map((hash) => `${encodeBase64(hash)}\n`).join("")}\n${checkpoint}`;
}

/**
 * Parses an add-checkpoint request body. Throws LedgerFormatError: "bad_witness_request" for a bad old
 * size line, a proof line that is not base64 of 32 bytes, more than 63 proof lines, a missing blank
 * line, or an old size above the checkpoint's size (all "400 Bad Request" per the spec); "bad_note",
 * "bad_signature_line" or "bad_checkpoint" for a malformed checkpoint. Does not verify signatures or the
 * proof, whose failures the spec answers with other status codes.
 */
export function parseAddCheckpoint(body: string): ParsedAddCheckpoint {
  let at = 0;
  const nextLine = (): string => {
    const end = body.indexOf("\n", at);
    if (end < 0) throw bad("request ends before the blank line that precedes the checkpoint");
    const line = body.slice(at, end);
    at = end + 1;
    return line;
  };

  const oldLine = nextLine();
  const oldSize = oldLine.startsWith("old ") ? parseCanonicalDecimal(oldLine.slice(4)) : null;
  if (oldSize === null) throw bad(`first line must be "old <size>" without leading zeros, got ${JSON.stringify(oldLine)}`);

  const proof: Hash[] = [];
  for (let line = nextLine(); line !== ""; line = nextLine()) {
    if (proof.length === MAX_ADD_CHECKPOINT_PROOF) throw bad(`more than ${MAX_ADD_CHECKPOINT_PROOF} consistency proof lines`);
    const hash = decodeBase64(line);
    if (hash === undefined || hash.length !== HASH_SIZE)
      throw bad(`proof line is not base64 of a ${HASH_SIZE}-byte hash: ${JSON.stringify(line)}`);
    proof.push(hash);
  }

  const checkpoint = body.slice(at);
  const note = parseNote(checkpoint);
  const tree = parseCheckpoint(note.text);
  if (oldSize > tree.size) throw bad(`old size ${oldSize} is above the checkpoint size ${tree.size}`);
  return { oldSize, proof, checkpoint, note, tree };
}
