/**
 * Transparency-log formats: RFC 9162 Merkle trees and proofs, c2sp.org/tlog-tiles, signed notes,
 * checkpoints, cosignatures, the tlog-witness add-checkpoint body, and RFC 8785 canonical JSON.
 * Pure TypeScript with synchronous hashing; runs in workerd, Bun and browsers.
 */
export { decodeBase64, encodeBase64 } from "./base64.ts";
export { type Checkpoint, formatCheckpoint, openCheckpoint, parseCheckpoint } from "./checkpoint.ts";
export {
  COSIGNATURE_V1_HEADER,
  cosignatureMessage,
  cosignatureTimestamp,
  formatWitnessVkey,
  signCosignature,
  verifyCosignature,
  witnessKeyId,
} from "./cosignature.ts";
export { ed25519PublicKey } from "./ed25519-sync.ts";
export { type LedgerErrorCode, LedgerFormatError } from "./errors.ts";
export { assertHash, EMPTY_ROOT, HASH_SIZE, type Hash, hashEquals, isHash, leafHash, nodeHash } from "./hash.ts";
export { canonicalBytes, canonicalJson, isCanonicalJson } from "./jcs.ts";
export {
  formatNote,
  formatSignatureLine,
  formatVkey,
  formatVkeyOfType,
  isValidKeyName,
  isValidNoteText,
  KEY_ID_SIZE,
  MAX_NOTE_SIGNATURES,
  type NoteSignature,
  noteKeyId,
  type ParsedNote,
  parseNote,
  parseNoteBytes,
  parseSignatureLines,
  parseVkey,
  SIGNATURE_TYPE_COSIGNATURE,
  SIGNATURE_TYPE_ED25519,
  signNoteText,
  type Vkey,
  verifyNoteSignature,
} from "./note.ts";
export {
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTile,
  entriesPath,
  hashesOfTile,
  MAX_ENTRY_BYTES,
  MAX_TILE_LEVEL,
  type ParsedTilePath,
  parseTilePath,
  TILE_HEIGHT,
  TILE_WIDTH,
  type TileCoords,
  tileHashReader,
  tilePath,
  tileRefs,
  tileWidthAt,
} from "./tiles.ts";
export {
  type HashReader,
  largestPowerOfTwoBelow,
  leafRangeOf,
  MerkleFrontier,
  type NodeRef,
  proveConsistency,
  proveInclusion,
  rootOfRange,
  type StoredNode,
  subtreesOf,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from "./tree-math.ts";
export {
  type AddCheckpointRequest,
  formatAddCheckpoint,
  MAX_ADD_CHECKPOINT_PROOF,
  type ParsedAddCheckpoint,
  parseAddCheckpoint,
} from "./witness-request.ts";
