/**
 * The static-resource layout of c2sp.org/tlog-tiles: tile and entry-bundle paths, tile contents, entry
 * bundles, and a {@link HashReader} that serves any complete-subtree hash from fetched tiles.
 *
 * A hash tile at level L, index N holds up to 256 consecutive hashes of tree level 8·L: the nodes
 * {level: 8L, index: N·256 + i}. A full tile is 256 hashes (8,192 bytes); the right-most tile of each
 * level is partial (1..255 hashes) until it fills, and its path says its width.
 */
import { LedgerFormatError } from "./errors.ts";
import { assertHash, HASH_SIZE, type Hash, nodeHash } from "./hash.ts";
import type { HashReader, NodeRef } from "./tree-math.ts";

/** Tree levels per tile: each tile is a subtree of height 8. */
export const TILE_HEIGHT = 8;
/** Hashes (or entries) in a full tile (or bundle): 2^TILE_HEIGHT. */
export const TILE_WIDTH = 256;
/** Largest entry an entry bundle can carry: its length prefix is a big-endian uint16. */
export const MAX_ENTRY_BYTES = 65535;
/** Highest tile level a path may name. */
export const MAX_TILE_LEVEL = 63;

/** A hash tile: `width` hashes (1..256) of tree level 8·`level`, starting at node `index`·256. */
export interface TileCoords {
  level: number;
  index: number;
  width: number;
}

export type ParsedTilePath =
  | { kind: "hash"; level: number; index: number; width: number }
  | { kind: "entries"; index: number; width: number };

function badPath(message: string): LedgerFormatError {
  return new LedgerFormatError("bad_tile_path", message);
}

function checkTileIndex(index: number): void {
  if (!Number.isSafeInteger(index) || index < 0) throw badPath(`tile index must be a non-negative safe integer, got ${index}`);
}

function checkWidth(width: number): void {
  if (!Number.isInteger(width) || width < 1 || width > TILE_WIDTH) throw badPath(`tile width must be 1..${TILE_WIDTH}, got ${width}`);
}

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < 0 || level > MAX_TILE_LEVEL)
    throw badPath(`tile level must be 0..${MAX_TILE_LEVEL}, got ${level}`);
}

/** `<N>` of a tile path: 3-digit groups, every group but the last prefixed with "x" (1234067 → x001/x234/067). */
function encodeTileIndex(index: number): string {
  const group = (n: number) => String(n).padStart(3, "0");
  let encoded = group(index % 1000);
  for (let rest = Math.floor(index / 1000); rest > 0; rest = Math.floor(rest / 1000)) {
    encoded = `x${group(rest % 1000)}/${encoded}`;
  }
  return encoded;
}

function widthSuffix(width: number): string {
  return width === TILE_WIDTH ? "" : `.p/${width}`;
}

/**
 * The path of a hash tile, relative to the log prefix.
 * @example tilePath({ level: 1, index: 1234067, width: 8 }) → "tile/1/x001/x234/067.p/8"
 */
export function tilePath({ level, index, width = TILE_WIDTH }: { level: number; index: number; width?: number }): string {
  checkLevel(level);
  checkTileIndex(index);
  checkWidth(width);
  return `tile/${level}/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

/**
 * The path of the entry bundle holding entries [index·256, index·256 + width).
 * @example entriesPath(1234067, 256) → "tile/entries/x001/x234/067"
 */
export function entriesPath(index: number, width: number = TILE_WIDTH): string {
  checkTileIndex(index);
  checkWidth(width);
  return `tile/entries/${encodeTileIndex(index)}${widthSuffix(width)}`;
}

const TILE_PATH = /^tile\/(entries|0|[1-9][0-9]?)\/((?:x[0-9]{3}\/)*[0-9]{3})(?:\.p\/([1-9][0-9]{0,2}))?$/;

/**
 * Parses a tile or entry-bundle path (relative to the log prefix, starting "tile/"). Only the one
 * canonical spelling is accepted, as the spec requires: level 0..63 without leading zeros, index in
 * minimal zero-padded 3-digit groups, ".p/W" only for widths 1..255 without leading zeros.
 * Throws LedgerFormatError("bad_tile_path") otherwise (for example "x1234", "x000/001", ".p/256", ".p/0").
 */
export function parseTilePath(path: string): ParsedTilePath {
  const match = TILE_PATH.exec(path);
  if (match === null) throw badPath(`not a tile path: ${JSON.stringify(path)}`);
  const [, levelText = "", indexText = "", widthText] = match;
  const index = Number(indexText.replaceAll("x", "").replaceAll("/", ""));
  if (!Number.isSafeInteger(index)) throw badPath(`tile index too large: ${JSON.stringify(path)}`);
  if (widthText !== undefined && Number(widthText) >= TILE_WIDTH) throw badPath(`partial tile width must be below ${TILE_WIDTH}: ${path}`);
  const width = widthText === undefined ? TILE_WIDTH : Number(widthText);
  const parsed: ParsedTilePath =
    levelText === "entries" ? { kind: "entries", index, width } : { kind: "hash", level: Number(levelText), index, width };
  if (parsed.kind === "hash" && parsed.level > MAX_TILE_LEVEL) throw badPath(`tile level above ${MAX_TILE_LEVEL}: ${path}`);
  const canonical = parsed.kind === "entries" ? entriesPath(index, width) : tilePath(parsed);
  if (canonical !== path) throw badPath(`non-canonical tile path ${JSON.stringify(path)} (canonical: ${canonical})`);
  return parsed;
}

/** The nodes whose hashes a hash tile holds, in order: {level: 8·level, index: index·256 + i}. */
export function tileRefs({ level, index, width }: TileCoords): NodeRef[] {
  checkLevel(level);
  checkTileIndex(index);
  checkWidth(width);
  const refs: NodeRef[] = [];
  for (let i = 0; i < width; i++) refs.push({ level: level * TILE_HEIGHT, index: index * TILE_WIDTH + i });
  return refs;
}

/** Splits tile bytes into `width` hashes; throws LedgerFormatError("bad_tile") unless exactly width·32 bytes. */
export function hashesOfTile(bytes: Uint8Array, width: number): Hash[] {
  checkWidth(width);
  if (bytes.length !== width * HASH_SIZE) {
    throw new LedgerFormatError("bad_tile", `a tile of width ${width} is ${width * HASH_SIZE} bytes, got ${bytes.length}`);
  }
  const hashes: Hash[] = [];
  for (let i = 0; i < width; i++) hashes.push(bytes.slice(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return hashes;
}

/** Tile bytes: the concatenation of 1..256 hashes. */
export function encodeTile(hashes: readonly Hash[]): Uint8Array {
  checkWidth(hashes.length);
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((hash, i) => {
    assertHash(hash, `tile hash ${i}`);
    out.set(hash, i * HASH_SIZE);
  });
  return out;
}

/**
 * How many hashes the hash tile (level, index) holds in a tree of `size` leaves: 256 when full, 1..255
 * when it is that level's partial tile, 0 when it does not exist yet.
 */
export function tileWidthAt(level: number, index: number, size: number): number {
  const nodesAtLevel = Math.floor(size / TILE_WIDTH ** level);
  return Math.max(0, Math.min(TILE_WIDTH, nodesAtLevel - index * TILE_WIDTH));
}

/**
 * An entry bundle: each entry prefixed by its big-endian uint16 length. Throws LedgerFormatError
 * ("bad_bundle") for an entry over {@link MAX_ENTRY_BYTES}, or for 0 or more than 256 entries (bundles
 * are never empty and never wider than a tile).
 */
export function encodeEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length === 0 || entries.length > TILE_WIDTH) {
    throw new LedgerFormatError("bad_bundle", `an entry bundle holds 1..${TILE_WIDTH} entries, got ${entries.length}`);
  }
  let length = 0;
  entries.forEach((entry, i) => {
    if (entry.length > MAX_ENTRY_BYTES) {
      throw new LedgerFormatError("bad_bundle", `entry ${i} is ${entry.length} bytes, over the ${MAX_ENTRY_BYTES}-byte limit`);
    }
    length += 2 + entry.length;
  });
  const out = new Uint8Array(length);
  let at = 0;
  for (const entry of entries) {
    out[at] = entry.length >> 8;
    out[at + 1] = entry.length & 0xff;
    out.set(entry, at + 2);
    at += 2 + entry.length;
  }
  return out;
}

/**
 * The entries of an entry bundle. Throws LedgerFormatError("bad_bundle") when a length prefix or entry
 * is cut short, when there are 0 or more than 256 entries, or when `width` is given and differs.
 */
export function decodeEntryBundle(bytes: Uint8Array, width?: number): Uint8Array[] {
  const entries: Uint8Array[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (entries.length === TILE_WIDTH) throw new LedgerFormatError("bad_bundle", `entry bundle holds more than ${TILE_WIDTH} entries`);
    if (at + 2 > bytes.length) throw new LedgerFormatError("bad_bundle", `entry bundle ends inside a length prefix at byte ${at}`);
    const length = (bytes[at]! << 8) | bytes[at + 1]!;
    at += 2;
    if (at + length > bytes.length) throw new LedgerFormatError("bad_bundle", `entry ${entries.length} is cut short`);
    entries.push(bytes.slice(at, at + length));
    at += length;
  }
  if (entries.length === 0) throw new LedgerFormatError("bad_bundle", "entry bundle is empty");
  if (width !== undefined && entries.length !== width) {
    throw new LedgerFormatError("bad_bundle", `entry bundle holds ${entries.length} entries, expected ${width}`);
  }
  return entries;
}

/** MTH of 2^k consecutive sibling hashes: the complete subtree above them. */
function foldComplete(hashes: readonly Hash[]): Hash {
  let layer = hashes;
  while (layer.length > 1) {
    const next: Hash[] = [];
    for (let i = 0; i < layer.length; i += 2) next.push(nodeHash(layer[i]!, layer[i + 1]!));
    layer = next;
  }
  return layer[0]!;
}

/** Where a node's hash comes from: the tile holding its descendants at the tile's level. */
interface TileSlice {
  tile: TileCoords;
  offset: number;
  count: number;
}

function locate(ref: NodeRef, size: number): TileSlice {
  if (!Number.isInteger(ref.level) || ref.level < 0 || !Number.isSafeInteger(ref.index) || ref.index < 0) {
    throw new LedgerFormatError("bad_range", `not a tree node: level ${ref.level}, index ${ref.index}`);
  }
  if ((ref.index + 1) * 2 ** ref.level > size) {
    throw new LedgerFormatError("bad_range", `node (level ${ref.level}, index ${ref.index}) is not complete in a tree of ${size} leaves`);
  }
  const level = Math.floor(ref.level / TILE_HEIGHT);
  const count = 2 ** (ref.level % TILE_HEIGHT);
  const first = ref.index * count;
  const index = Math.floor(first / TILE_WIDTH);
  return { tile: { level, index, width: tileWidthAt(level, index, size) }, offset: first % TILE_WIDTH, count };
}

/**
 * A {@link HashReader} over the tiles of a tree of `size` leaves. A node at level l comes from the tile
 * at level ⌊l/8⌋; when l is not a multiple of 8 it is computed from the 2^(l mod 8) tile hashes below
 * it. Tiles are fetched with the width they have at `size` (partial only where `size` requires), in
 * parallel, and cached for the reader's lifetime; if a partial tile is gone, the full tile that
 * replaced it is tried.
 *
 * This does not authenticate tiles: the caller must check a root or proof computed from them against
 * a signed checkpoint of this exact `size` (e.g. treeRoot(size, reader) against the checkpoint's
 * root), which authenticates every tile hash that went into it. Take `size` from a checkpoint already
 * verified: the spec forbids fetching partial tiles that no verified checkpoint requires.
 */
export function tileHashReader(fetchTile: (path: string) => Promise<Uint8Array>, size: number): HashReader {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new LedgerFormatError("bad_range", `tree size must be a non-negative safe integer, got ${size}`);
  const cache = new Map<string, Promise<Hash[]>>();

  async function fetchHashes(tile: TileCoords): Promise<Hash[]> {
    try {
      return hashesOfTile(await fetchTile(tilePath(tile)), tile.width);
    } catch (error) {
      if (tile.width === TILE_WIDTH) throw error;
      let full: Uint8Array;
      try {
        full = await fetchTile(tilePath({ ...tile, width: TILE_WIDTH }));
      } catch {
        throw error;
      }
      return hashesOfTile(full, TILE_WIDTH).slice(0, tile.width);
    }
  }

  function loadTile(tile: TileCoords): Promise<Hash[]> {
    const path = tilePath(tile);
    let hashes = cache.get(path);
    if (hashes === undefined) {
      hashes = fetchHashes(tile);
      cache.set(path, hashes);
      // A failed fetch is not remembered: the next read tries again.
      hashes.catch(() => cache.delete(path));
    }
    return hashes;
  }

  return async (refs) => {
    const slices = refs.map((ref) => locate(ref, size));
    const tiles = await Promise.all(slices.map((slice) => loadTile(slice.tile)));
    return slices.map((slice, i) => foldComplete(tiles[i]!.slice(slice.offset, slice.offset + slice.count)));
  };
}
