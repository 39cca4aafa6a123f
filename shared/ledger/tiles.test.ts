import { describe, expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { LedgerFormatError } from "./errors.ts";
import type { Hash } from "./hash.ts";
import { expectCode, MemoryTree, nodeKey, syntheticLeaves } from "./test-fixtures.ts";
import {
  decodeEntryBundle,
  encodeEntryBundle,
  encodeTile,
  entriesPath,
  hashesOfTile,
  MAX_ENTRY_BYTES,
  parseTilePath,
  TILE_WIDTH,
  tileHashReader,
  tilePath,
  tileRefs,
  tileWidthAt,
} from "./tiles.ts";
import { type NodeRef, proveConsistency, proveInclusion, treeRoot } from "./tree-math.ts";

describe("tile paths", () => {
  test("the spec's index encoding example and partial suffix", () => {
    expect(tilePath({ level: 1, index: 1234067, width: 8 })).toBe("tile/1/x001/x234/067.p/8");
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe("tile/0/x001/x234/067");
    expect(tilePath({ level: 0, index: 1234067 })).toBe("tile/0/x001/x234/067");
    expect(tilePath({ level: 63, index: 0, width: 1 })).toBe("tile/63/000.p/1");
    expect(tilePath({ level: 2, index: 999, width: 255 })).toBe("tile/2/999.p/255");
    expect(tilePath({ level: 0, index: 1000, width: 256 })).toBe("tile/0/x001/000");
    expect(tilePath({ level: 0, index: 1000000, width: 256 })).toBe("tile/0/x001/x000/000");
    expect(entriesPath(1234067, 256)).toBe("tile/entries/x001/x234/067");
    expect(entriesPath(1234067, 8)).toBe("tile/entries/x001/x234/067.p/8");
    expect(entriesPath(0)).toBe("tile/entries/000");
  });

  test("formatting rejects impossible tiles", () => {
    expectCode(() => tilePath({ level: 64, index: 0, width: 1 }), "bad_tile_path");
    expectCode(() => tilePath({ level: 0, index: -1, width: 1 }), "bad_tile_path");
    expectCode(() => tilePath({ level: 0, index: 0, width: 0 }), "bad_tile_path");
    expectCode(() => tilePath({ level: 0, index: 0, width: 257 }), "bad_tile_path");
    expectCode(() => entriesPath(1.5, 3), "bad_tile_path");
  });

  test("parse round-trips canonical paths", () => {
    expect(parseTilePath("tile/1/x001/x234/067.p/8")).toEqual({ kind: "hash", level: 1, index: 1234067, width: 8 });
    expect(parseTilePath("tile/0/x001/x234/067")).toEqual({ kind: "hash", level: 0, index: 1234067, width: 256 });
    expect(parseTilePath("tile/entries/x001/x234/067")).toEqual({ kind: "entries", index: 1234067, width: 256 });
    expect(parseTilePath("tile/entries/000.p/1")).toEqual({ kind: "entries", index: 0, width: 1 });
    expect(parseTilePath("tile/63/999.p/255")).toEqual({ kind: "hash", level: 63, index: 999, width: 255 });
    for (const index of [0, 1, 999, 1000, 1001, 256000, 1234067, 2 ** 40 + 3]) {
      for (const width of [1, 100, 255, 256]) {
        const hashPath = tilePath({ level: 3, index, width });
        expect(parseTilePath(hashPath)).toEqual({ kind: "hash", level: 3, index, width });
        expect(parseTilePath(entriesPath(index, width))).toEqual({ kind: "entries", index, width });
      }
    }
  });

  test("parse rejects every non-canonical or malformed spelling", () => {
    const rejected = [
      "tile/0/x1234/067",
      "tile/0/1234",
      "tile/0/1",
      "tile/0/01",
      "tile/0/0000",
      "tile/0/x000/001",
      "tile/0/x001",
      "tile/0/X001/000",
      "tile/0/067.p/256",
      "tile/0/067.p/0",
      "tile/0/067.p/08",
      "tile/0/067.p/",
      "tile/0/067.p",
      "tile/0/067.p/1/2",
      "tile/0/067/",
      "tile/00/067",
      "tile/01/067",
      "tile/64/000",
      "tile/-1/000",
      "tile/data/000",
      "tile/entries/000.p/256",
      "tile/entries/x000/000",
      "/tile/0/000",
      "tile/0/000 ",
      "tiles/0/000",
      "tile/0",
      "",
      "tile/0/x999/x999/x999/x999/x999/x999/999",
    ];
    for (const path of rejected) expectCode(() => parseTilePath(path), "bad_tile_path");
  });

  test("widths at a tree size follow the spec's 70,000 and 256 examples", () => {
    const size = 70000;
    expect(tileWidthAt(0, 272, size)).toBe(256);
    expect(tileWidthAt(0, 273, size)).toBe(112);
    expect(tileWidthAt(0, 274, size)).toBe(0);
    expect(tileWidthAt(1, 0, size)).toBe(256);
    expect(tileWidthAt(1, 1, size)).toBe(17);
    expect(tileWidthAt(2, 0, size)).toBe(1);
    expect(tileWidthAt(3, 0, size)).toBe(0);
    expect(tileWidthAt(0, 0, 256)).toBe(256);
    expect(tileWidthAt(0, 1, 256)).toBe(0);
    expect(tileWidthAt(1, 0, 256)).toBe(1);
  });
});

describe("tile contents", () => {
  test("tileRefs names the nodes at level 8L", () => {
    expect(tileRefs({ level: 2, index: 3, width: 2 })).toEqual([
      { level: 16, index: 768 },
      { level: 16, index: 769 },
    ]);
    expect(tileRefs({ level: 0, index: 0, width: 256 })).toHaveLength(256);
  });

  test("hashesOfTile and encodeTile are inverses and check lengths", () => {
    const hashes = syntheticLeaves(5);
    const bytes = encodeTile(hashes);
    expect(bytes.length).toBe(160);
    expect(hashesOfTile(bytes, 5).map(toHex)).toEqual(hashes.map(toHex));
    expectCode(() => hashesOfTile(bytes, 4), "bad_tile");
    expectCode(() => hashesOfTile(bytes.slice(1), 5), "bad_tile");
    expectCode(() => encodeTile([]), "bad_tile_path");
  });
});

describe("entry bundles", () => {
  test("round trip, including empty and maximum-size entries", () => {
    const entries = [new Uint8Array(0), Uint8Array.of(1, 2, 3), new Uint8Array(MAX_ENTRY_BYTES).fill(9), Uint8Array.of(255)];
    const bytes = encodeEntryBundle(entries);
    expect(bytes.length).toBe(2 * 4 + 0 + 3 + MAX_ENTRY_BYTES + 1);
    expect([...bytes.slice(0, 7)]).toEqual([0, 0, 0, 3, 1, 2, 3]);
    expect([...bytes.slice(7, 9)]).toEqual([0xff, 0xff]);
    expect(decodeEntryBundle(bytes).map((e) => [...e])).toEqual(entries.map((e) => [...e]));
    expect(decodeEntryBundle(bytes, 4)).toHaveLength(4);
    const full = Array.from({ length: TILE_WIDTH }, (_, i) => Uint8Array.of(i));
    expect(decodeEntryBundle(encodeEntryBundle(full), TILE_WIDTH)).toHaveLength(TILE_WIDTH);
  });

  test("encoding rejects oversize entries and empty or overfull bundles", () => {
    expectCode(() => encodeEntryBundle([new Uint8Array(MAX_ENTRY_BYTES + 1)]), "bad_bundle");
    expectCode(() => encodeEntryBundle([]), "bad_bundle");
    expectCode(() => encodeEntryBundle(Array.from({ length: TILE_WIDTH + 1 }, () => new Uint8Array(1))), "bad_bundle");
  });

  test("decoding rejects truncation, emptiness, overfull bundles and a wrong width", () => {
    const bytes = encodeEntryBundle([Uint8Array.of(1, 2, 3), Uint8Array.of(4)]);
    expectCode(() => decodeEntryBundle(bytes.slice(0, -1)), "bad_bundle");
    expectCode(() => decodeEntryBundle(bytes.slice(0, 1)), "bad_bundle");
    expectCode(() => decodeEntryBundle(Uint8Array.of(0, 5, 1)), "bad_bundle");
    expectCode(() => decodeEntryBundle(new Uint8Array(0)), "bad_bundle");
    expectCode(() => decodeEntryBundle(bytes, 3), "bad_bundle");
    expectCode(() => decodeEntryBundle(new Uint8Array(2 * (TILE_WIDTH + 1))), "bad_bundle");
  });
});

describe("tileHashReader against a brute-force tile store", () => {
  const MAX = 65536 + 300;
  const tree = new MemoryTree(syntheticLeaves(MAX));

  /** Every tile that exists at `size`, full or partial, built from the stored node hashes. */
  function tilesAt(size: number): Map<string, Uint8Array> {
    const tiles = new Map<string, Uint8Array>();
    for (let level = 0; TILE_WIDTH ** level <= size; level++) {
      const nodes = Math.floor(size / TILE_WIDTH ** level);
      for (let index = 0; index * TILE_WIDTH < nodes; index++) {
        const width = tileWidthAt(level, index, size);
        const hashes = tileRefs({ level, index, width }).map((ref) => tree.nodes.get(nodeKey(ref))!);
        tiles.set(tilePath({ level, index, width }), encodeTile(hashes));
      }
    }
    return tiles;
  }

  function serve(tiles: Map<string, Uint8Array>) {
    const fetched: string[] = [];
    const fetchTile = async (path: string) => {
      fetched.push(path);
      const bytes = tiles.get(path);
      if (bytes === undefined) throw new Error(`404 ${path}`);
      return bytes;
    };
    return { fetched, fetchTile };
  }

  /** A spread of complete nodes at `size`, at every level including ones between tile levels. */
  function sampleRefs(size: number): NodeRef[] {
    const refs: NodeRef[] = [];
    for (let level = 0; 2 ** level <= size; level++) {
      const count = Math.floor(size / 2 ** level);
      for (const index of new Set([0, Math.floor(count / 3), Math.floor(count / 2), count - 1])) refs.push({ level, index });
    }
    return refs;
  }

  for (const size of [1, 255, 256, 257, 511, 65536, MAX]) {
    test(`tree of ${size} leaves: nodes, roots and proofs match the stored tree`, async () => {
      const { fetched, fetchTile } = serve(tilesAt(size));
      const read = tileHashReader(fetchTile, size);

      const refs = sampleRefs(size);
      const fromTiles = await read(refs);
      expect(fromTiles.map(toHex)).toEqual(refs.map((ref) => toHex(tree.nodes.get(nodeKey(ref))!)));

      expect(toHex(await treeRoot(size, read))).toBe(toHex(await treeRoot(size, tree.read)));
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        expect((await proveInclusion(index, size, read)).map(toHex)).toEqual((await proveInclusion(index, size, tree.read)).map(toHex));
      }
      for (const oldSize of [1, Math.ceil(size / 3), size - 1]) {
        if (oldSize < 1 || oldSize >= size) continue;
        expect((await proveConsistency(oldSize, size, read)).map(toHex)).toEqual(
          (await proveConsistency(oldSize, size, tree.read)).map(toHex),
        );
      }

      // Each tile is fetched once, whatever the number of reads.
      expect(new Set(fetched).size).toBe(fetched.length);
      const before = fetched.length;
      await read(refs);
      await proveInclusion(size - 1, size, read);
      expect(fetched.length).toBe(before);
      // Partial tiles are only fetched at the width the size implies.
      for (const path of fetched) {
        const tile = parseTilePath(path);
        expect(tile.kind).toBe("hash");
        if (tile.kind === "hash") expect(tile.width).toBe(tileWidthAt(tile.level, tile.index, size));
      }
    });
  }

  test("a proof reads O(log n) tiles", async () => {
    const { fetched, fetchTile } = serve(tilesAt(MAX));
    await proveInclusion(12345, MAX, tileHashReader(fetchTile, MAX));
    expect(fetched.length).toBeLessThanOrEqual(6);
  });

  test("falls back to the full tile when a partial tile is gone", async () => {
    const size = 257;
    const tiles = tilesAt(size);
    expect(tiles.delete("tile/0/001.p/1")).toBe(true);
    tiles.set("tile/0/001", tilesAt(512).get("tile/0/001")!);
    const read = tileHashReader(serve(tiles).fetchTile, size);
    expect(toHex(await treeRoot(size, read))).toBe(toHex(await treeRoot(size, tree.read)));
  });

  test("rejects nodes not complete at the size, and tiles of the wrong length", async () => {
    const read = tileHashReader(serve(tilesAt(300)).fetchTile, 300);
    await expect(read([{ level: 0, index: 300 }])).rejects.toThrow(LedgerFormatError);
    await expect(read([{ level: 9, index: 0 }])).rejects.toThrow(LedgerFormatError);
    const short = tileHashReader(async () => new Uint8Array(31), 300);
    await expect(short([{ level: 0, index: 0 }])).rejects.toThrow(LedgerFormatError);
  });

  test("a failed fetch is not cached", async () => {
    let fail = true;
    const tiles = tilesAt(10);
    const read = tileHashReader(async (path) => {
      if (fail) throw new Error("network down");
      return tiles.get(path)!;
    }, 10);
    await expect(read([{ level: 0, index: 3 }])).rejects.toThrow("network down");
    fail = false;
    const [hash] = (await read([{ level: 0, index: 3 }])) as [Hash];
    expect(toHex(hash)).toBe(toHex(tree.nodes.get("0/3")!));
  });
});
