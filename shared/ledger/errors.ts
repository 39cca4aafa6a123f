/** Stable machine-readable reasons the ledger layer rejects input. */
export type LedgerErrorCode =
  /** A signed note (c2sp.org/signed-note) is malformed: text, separator, characters or size. */
  | "bad_note"
  /** A note signature line is malformed: prefix, key name, base64 or length. */
  | "bad_signature_line"
  /** A checkpoint body (c2sp.org/tlog-checkpoint) is malformed. */
  | "bad_checkpoint"
  /** A tile or entry-bundle path is not the canonical c2sp.org/tlog-tiles encoding. */
  | "bad_tile_path"
  /** Tile bytes are not a whole number of hashes, or not as wide as the path says. */
  | "bad_tile"
  /** An entry bundle is truncated, empty, too wide, or an entry is too large to encode. */
  | "bad_bundle"
  /** A proof request is impossible (for example old size above new size). */
  | "bad_proof"
  /** A leaf index, tree size or leaf range is negative, fractional, unsafe or out of order. */
  | "bad_range"
  /** A hash is not 32 bytes, or a hash reader answered with the wrong number of hashes. */
  | "bad_hash"
  /** A Merkle frontier was restored from hashes that do not fit its size. */
  | "bad_frontier"
  /** A verifier key (vkey) is malformed or its key ID does not match its key. */
  | "bad_vkey"
  /** A key name or secret key is unusable for signing. */
  | "bad_key"
  /** A tlog-witness add-checkpoint request body is malformed. */
  | "bad_witness_request"
  /** A value has no RFC 8785 canonical JSON form (bigint, function, cycle, lone surrogate, ...). */
  | "not_canonical_json";

/**
 * The one error type of the ledger layer. Parsers and formatters throw it for malformed input;
 * verifiers return booleans instead, so a forged signature or proof is never an exception.
 * @example try { parseCheckpoint(text) } catch (e) { if (e instanceof LedgerFormatError && e.code === "bad_checkpoint") reject(e.message) }
 */
export class LedgerFormatError extends Error {
  override readonly name = "LedgerFormatError";
  readonly code: LedgerErrorCode;

  constructor(code: LedgerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
