import { describe, expect, test } from "bun:test";
import { fromHex, toHex } from "../crypto/hex.ts";
import { LedgerFormatError } from "./errors.ts";
import { EMPTY_ROOT, type Hash, leafHash, nodeHash } from "./hash.ts";
import {
  CT_ENTRIES,
  CT_ROOTS,
  flipBit,
  MemoryTree,
  nodeKey,
  referenceConsistency,
  referencePath,
  referenceRoot,
  syntheticLeaves,
} from "./test-fixtures.ts";
import {
  type HashReader,
  leafRangeOf,
  MerkleFrontier,
  type NodeRef,
  proveConsistency,
  proveInclusion,
  rootOfRange,
  subtreesOf,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
} from "./tree-math.ts";

const hex = (hashes: readonly Hash[]) => hashes.map(toHex);
const someHash = fromHex("abacaba000000000000000000000000000000000000000000060061e00123456");

/** O(log n) bound on the refs one proof may read. */
function refBound(size: number): number {
  return 2 * Math.ceil(Math.log2(Math.max(size, 2))) + 2;
}

async function expectThrowsCode(promise: Promise<unknown>, code: string): Promise<void> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(LedgerFormatError);
    expect((error as LedgerFormatError).code).toBe(code as LedgerFormatError["code"]);
    return;
  }
  throw new Error(`expected a LedgerFormatError ${code}`);
}

/** Variants of a valid inclusion proof that must all fail (wrong index, size, leaf, root, proof). */
function inclusionProbes(index: number, size: number, proof: Hash[], root: Hash, leaf: Hash) {
  const probes: { index: number; size: number; proof: Hash[]; root: Hash; leaf: Hash; what: string }[] = [
    { index: index - 1, size, proof, root, leaf, what: "index - 1" },
    { index: index + 1, size, proof, root, leaf, what: "index + 1" },
    { index: index ^ 2, size, proof, root, leaf, what: "index ^ 2" },
    { index, size: size * 2, proof, root, leaf, what: "size * 2" },
    { index, size: Math.floor(size / 2), proof, root, leaf, what: "size / 2" },
    { index, size, proof, root, leaf: leafHash(Uint8Array.of(1, 2, 3)), what: "wrong leaf" },
    { index, size, proof, root: EMPTY_ROOT, leaf, what: "empty root" },
    { index, size, proof, root: someHash, leaf, what: "random root" },
    { index, size, proof: [...proof, root], root, leaf, what: "trailing root" },
    { index, size, proof: [root, ...proof], root, leaf, what: "preceding root" },
    { index, size, proof: [...proof, new Uint8Array(0)], root, leaf, what: "trailing garbage" },
  ];
  proof.forEach((_, i) => {
    probes.push({ index, size, proof: proof.map((h, j) => (j === i ? flipBit(h, 3) : h)), root, leaf, what: `flipped proof[${i}]` });
  });
  if (proof.length > 0) probes.push({ index, size, proof: proof.slice(0, -1), root, leaf, what: "removed element" });
  if (proof.length > 1) probes.push({ index, size, proof: [proof[0]!, someHash, ...proof.slice(1)], root, leaf, what: "inserted element" });
  return probes.filter((p) => p.index >= 0);
}

/** Variants of a valid consistency proof that must all fail. */
function consistencyProbes(m: number, n: number, proof: Hash[], oldRoot: Hash, newRoot: Hash) {
  const probes: { m: number; n: number; proof: Hash[]; oldRoot: Hash; newRoot: Hash; what: string }[] = [
    { m: m - 1, n, proof, oldRoot, newRoot, what: "old size - 1" },
    { m: m + 1, n, proof, oldRoot, newRoot, what: "old size + 1" },
    { m: m ^ 2, n, proof, oldRoot, newRoot, what: "old size ^ 2" },
    { m, n: n * 2, proof, oldRoot, newRoot, what: "new size * 2" },
    { m, n: Math.floor(n / 2), proof, oldRoot, newRoot, what: "new size / 2" },
    { m, n, proof, oldRoot: someHash, newRoot, what: "wrong old root" },
    { m, n, proof, oldRoot, newRoot: someHash, what: "wrong new root" },
    { m, n, proof, oldRoot: newRoot, newRoot: oldRoot, what: "swapped roots" },
    { m, n, proof: [], oldRoot, newRoot, what: "empty proof" },
    { m, n, proof: [...proof, oldRoot], oldRoot, newRoot, what: "trailing old root" },
    { m, n, proof: [...proof, newRoot], oldRoot, newRoot, what: "trailing new root" },
    { m, n, proof: [oldRoot, ...proof], oldRoot, newRoot, what: "preceding old root" },
    { m, n, proof: [newRoot, ...proof], oldRoot, newRoot, what: "preceding new root" },
    { m, n, proof: [proof[0]!, ...proof], oldRoot, newRoot, what: "preceding proof[0]" },
    { m, n, proof: proof.slice(0, -1), oldRoot, newRoot, what: "truncated" },
  ];
  proof.forEach((_, i) => {
    probes.push({ m, n, proof: proof.map((h, j) => (j === i ? flipBit(h, 4) : h)), oldRoot, newRoot, what: `flipped proof[${i}]` });
  });
  return probes;
}

describe("RFC 6962 / RFC 9162 test vectors (the eight CT entries)", () => {
  const leaves = CT_ENTRIES.map(leafHash);

  test("roots of sizes 1..8, from the frontier, from stored nodes and from the definition", async () => {
    const tree = new MemoryTree();
    for (let size = 1; size <= 8; size++) {
      tree.append(leaves[size - 1]!);
      expect(toHex(tree.frontier.root())).toBe(toHex(CT_ROOTS[size - 1]!));
      expect(toHex(await treeRoot(size, tree.read))).toBe(toHex(CT_ROOTS[size - 1]!));
      expect(toHex(referenceRoot(leaves.slice(0, size)))).toBe(toHex(CT_ROOTS[size - 1]!));
    }
  });

  const inclusionVectors: { index: number; size: number; proof: string[] }[] = [
    { index: 0, size: 1, proof: [] },
    {
      index: 0,
      size: 8,
      proof: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      ],
    },
    {
      index: 5,
      size: 8,
      proof: [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ],
    },
    { index: 2, size: 3, proof: ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"] },
    {
      index: 1,
      size: 5,
      proof: [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      ],
    },
  ];

  for (const v of inclusionVectors) {
    test(`inclusion proof of leaf ${v.index} in a tree of ${v.size}`, async () => {
      const tree = new MemoryTree(leaves.slice(0, v.size));
      expect(hex(await proveInclusion(v.index, v.size, tree.read))).toEqual(v.proof);
      const proof = v.proof.map(fromHex);
      const root = CT_ROOTS[v.size - 1]!;
      expect(verifyInclusion(leaves[v.index]!, v.index, v.size, proof, root)).toBe(true);
      for (const p of inclusionProbes(v.index, v.size, proof, root, leaves[v.index]!)) {
        expect({ what: p.what, ok: verifyInclusion(p.leaf, p.index, p.size, p.proof, p.root) }).toEqual({ what: p.what, ok: false });
      }
    });
  }

  const consistencyVectors: { m: number; n: number; proof: string[] }[] = [
    { m: 1, n: 1, proof: [] },
    {
      m: 1,
      n: 8,
      proof: [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
      ],
    },
    {
      m: 6,
      n: 8,
      proof: [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ],
    },
    {
      m: 2,
      n: 5,
      proof: [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
      ],
    },
    {
      m: 6,
      n: 7,
      proof: [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      ],
    },
  ];

  for (const v of consistencyVectors) {
    test(`consistency proof from ${v.m} to ${v.n}`, async () => {
      const tree = new MemoryTree(leaves.slice(0, v.n));
      expect(hex(await proveConsistency(v.m, v.n, tree.read))).toEqual(v.proof);
      const proof = v.proof.map(fromHex);
      const oldRoot = CT_ROOTS[v.m - 1]!;
      const newRoot = CT_ROOTS[v.n - 1]!;
      expect(verifyConsistency(v.m, v.n, proof, oldRoot, newRoot)).toBe(true);
      if (proof.length === 0) return;
      for (const p of consistencyProbes(v.m, v.n, proof, oldRoot, newRoot)) {
        expect({ what: p.what, ok: verifyConsistency(p.m, p.n, p.proof, p.oldRoot, p.newRoot) }).toEqual({ what: p.what, ok: false });
      }
    });
  }
});

describe("subtreesOf", () => {
  test("examples", () => {
    expect(subtreesOf(0, 0)).toEqual([]);
    expect(subtreesOf(0, 1)).toEqual([{ level: 0, index: 0 }]);
    expect(subtreesOf(0, 6)).toEqual([
      { level: 2, index: 0 },
      { level: 1, index: 2 },
    ]);
    expect(subtreesOf(3, 13)).toEqual([
      { level: 0, index: 3 },
      { level: 2, index: 1 },
      { level: 2, index: 2 },
      { level: 0, index: 12 },
    ]);
  });

  test("every range up to 70 is covered exactly by maximal aligned complete subtrees", () => {
    for (let end = 0; end <= 70; end++) {
      for (let begin = 0; begin <= end; begin++) {
        const refs = subtreesOf(begin, end);
        let at = begin;
        for (const ref of refs) {
          const range = leafRangeOf(ref);
          expect(range.begin).toBe(at);
          expect(range.end).toBeLessThanOrEqual(end);
          // Maximal: the parent either starts elsewhere or would run past the range.
          const parent = leafRangeOf({ level: ref.level + 1, index: Math.floor(ref.index / 2) });
          expect(parent.begin !== range.begin || parent.end > end).toBe(true);
          at = range.end;
        }
        expect(at).toBe(end);
        expect(refs.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(Math.max(end - begin, 1))) + 2);
      }
    }
  });

  test("works past 2^32 leaves (no 32-bit bitwise math)", () => {
    expect(subtreesOf(0, 2 ** 33 + 5)).toEqual([
      { level: 33, index: 0 },
      { level: 2, index: 2 ** 31 },
      { level: 0, index: 2 ** 33 + 4 },
    ]);
  });

  test("rejects bad ranges", () => {
    expect(() => subtreesOf(5, 4)).toThrow(LedgerFormatError);
    expect(() => subtreesOf(-1, 4)).toThrow(LedgerFormatError);
    expect(() => subtreesOf(0, 1.5)).toThrow(LedgerFormatError);
    expect(() => subtreesOf(0, 2 ** 53)).toThrow(LedgerFormatError);
  });

  test("rootOfRange folds right to left; no hashes is the empty root", () => {
    const [a, b, c] = syntheticLeaves(3) as [Hash, Hash, Hash];
    expect(toHex(rootOfRange([a, b, c]))).toBe(toHex(nodeHash(a, nodeHash(b, c))));
    expect(toHex(rootOfRange([]))).toBe(toHex(EMPTY_ROOT));
  });
});

describe("exhaustive proofs up to 70 leaves", () => {
  const leaves = syntheticLeaves(70);
  const roots = [EMPTY_ROOT, ...leaves.map((_, i) => referenceRoot(leaves.slice(0, i + 1)))];

  test("frontier roots and stored-node roots match the recursive definition", async () => {
    const tree = new MemoryTree();
    expect(toHex(tree.frontier.root())).toBe(toHex(EMPTY_ROOT));
    expect(toHex(await treeRoot(0, tree.read))).toBe(toHex(EMPTY_ROOT));
    for (let size = 1; size <= 70; size++) {
      tree.append(leaves[size - 1]!);
      expect(toHex(tree.frontier.root())).toBe(toHex(roots[size]!));
      tree.reads.length = 0;
      expect(toHex(await treeRoot(size, tree.read))).toBe(toHex(roots[size]!));
      expect(tree.reads.length).toBe(1);
    }
  });

  test("inclusion: every (index, size), proof equals PATH, verifies, one read of O(log n) refs, probes fail", async () => {
    const tree = new MemoryTree(leaves);
    for (let size = 1; size <= 70; size++) {
      for (let index = 0; index < size; index++) {
        tree.reads.length = 0;
        const proof = await proveInclusion(index, size, tree.read);
        expect(hex(proof)).toEqual(hex(referencePath(index, leaves.slice(0, size))));
        expect(tree.reads.length).toBe(size === 1 ? 0 : 1);
        for (const refs of tree.reads) expect(refs.length).toBeLessThanOrEqual(refBound(size));
        const root = roots[size]!;
        expect(verifyInclusion(leaves[index]!, index, size, proof, root)).toBe(true);
        for (const p of inclusionProbes(index, size, proof, root, leaves[index]!)) {
          if (verifyInclusion(p.leaf, p.index, p.size, p.proof, p.root))
            throw new Error(`probe "${p.what}" verified for (${index}, ${size})`);
        }
      }
    }
  });

  test("consistency: every (m, n), proof equals PROOF, verifies, one read of O(log n) refs, probes fail", async () => {
    const tree = new MemoryTree(leaves);
    for (let n = 0; n <= 70; n++) {
      for (let m = 0; m <= n; m++) {
        tree.reads.length = 0;
        const proof = await proveConsistency(m, n, tree.read);
        const trivial = m === 0 || m === n;
        expect(hex(proof)).toEqual(trivial ? [] : hex(referenceConsistency(m, leaves.slice(0, n))));
        expect(tree.reads.length).toBe(trivial ? 0 : 1);
        for (const refs of tree.reads) expect(refs.length).toBeLessThanOrEqual(refBound(n));
        expect(verifyConsistency(m, n, proof, roots[m]!, roots[n]!)).toBe(true);
        if (trivial) continue;
        for (const p of consistencyProbes(m, n, proof, roots[m]!, roots[n]!)) {
          if (verifyConsistency(p.m, p.n, p.proof, p.oldRoot, p.newRoot)) throw new Error(`probe "${p.what}" verified for (${m}, ${n})`);
        }
      }
    }
  });
});

describe("random proofs in a 5000-leaf tree", () => {
  const leaves = syntheticLeaves(5000);
  const tree = new MemoryTree(leaves);
  // A fixed-seed LCG keeps failures reproducible.
  let seed = 12345;
  const random = (below: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % below;
  };

  test("inclusion and consistency proofs verify against frontier roots", async () => {
    const roots = new Map<number, Hash>();
    const frontier = new MerkleFrontier();
    for (const leaf of leaves) {
      frontier.append(leaf);
      roots.set(frontier.size, frontier.root());
    }
    for (let round = 0; round < 300; round++) {
      const size = 1 + random(5000);
      const index = random(size);
      tree.reads.length = 0;
      const proof = await proveInclusion(index, size, tree.read);
      expect(tree.reads.length).toBe(size === 1 ? 0 : 1);
      expect(tree.reads[0]?.length ?? 0).toBeLessThanOrEqual(refBound(size));
      expect(verifyInclusion(leaves[index]!, index, size, proof, roots.get(size)!)).toBe(true);
      expect(verifyInclusion(leaves[index]!, index, size, proof, roots.get(size === 1 ? 2 : size - 1)!)).toBe(false);

      const m = 1 + random(size);
      tree.reads.length = 0;
      const consistency = await proveConsistency(m, size, tree.read);
      expect(tree.reads[0]?.length ?? 0).toBeLessThanOrEqual(refBound(size));
      expect(verifyConsistency(m, size, consistency, roots.get(m)!, roots.get(size)!)).toBe(true);
      if (m < size) {
        expect(verifyConsistency(m, size, consistency, roots.get(m === 1 ? 2 : m - 1)!, roots.get(size)!)).toBe(false);
      }
    }
  });
});

describe("trees past 2^32 leaves", () => {
  // When every leaf is the same, a node's hash depends only on its level, so a huge tree fits in a
  // 64-entry table and the index math is exercised far beyond 32 bits.
  const byLevel: Hash[] = [leafHash(Uint8Array.of(7))];
  for (let level = 1; level < 64; level++) byLevel.push(nodeHash(byLevel[level - 1]!, byLevel[level - 1]!));
  const reads: NodeRef[][] = [];
  const read: HashReader = async (refs) => {
    reads.push([...refs]);
    return refs.map((ref) => byLevel[ref.level]!);
  };

  test("inclusion and consistency at 2^45 + 2^20 + 12345 leaves", async () => {
    const size = 2 ** 45 + 2 ** 20 + 12345;
    const root = await treeRoot(size, read);
    for (const index of [0, 2 ** 44 + 777, 2 ** 45 + 5, size - 1]) {
      reads.length = 0;
      const proof = await proveInclusion(index, size, read);
      expect(reads.length).toBe(1);
      expect(reads[0]!.length).toBeLessThanOrEqual(refBound(size));
      expect(verifyInclusion(byLevel[0]!, index, size, proof, root)).toBe(true);
      expect(verifyInclusion(byLevel[0]!, index, size, proof, flipBit(root))).toBe(false);
    }
    for (const oldSize of [1, 2 ** 32, 2 ** 40 + 3, size - 1]) {
      const proof = await proveConsistency(oldSize, size, read);
      const oldRoot = await treeRoot(oldSize, read);
      expect(verifyConsistency(oldSize, size, proof, oldRoot, root)).toBe(true);
      expect(verifyConsistency(oldSize, size, proof, oldRoot, flipBit(root))).toBe(false);
    }
  });
});

describe("verifyConsistency trivial cases", () => {
  const [a, b] = syntheticLeaves(2) as [Hash, Hash];

  test("equal sizes need equal roots and an empty proof", () => {
    expect(verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT)).toBe(true);
    expect(verifyConsistency(1, 1, [], a, a)).toBe(true);
    expect(verifyConsistency(1, 1, [], a, b)).toBe(false);
    expect(verifyConsistency(1, 1, [EMPTY_ROOT], a, a)).toBe(false);
    expect(verifyConsistency(0, 0, [EMPTY_ROOT], EMPTY_ROOT, EMPTY_ROOT)).toBe(false);
  });

  test("the empty tree is consistent with any tree, with an empty proof and the empty root", () => {
    expect(verifyConsistency(0, 1, [], EMPTY_ROOT, a)).toBe(true);
    expect(verifyConsistency(0, 1, [EMPTY_ROOT], EMPTY_ROOT, a)).toBe(false);
    expect(verifyConsistency(0, 1, [], a, b)).toBe(false);
  });

  test("time travel and malformed input fail without throwing", () => {
    expect(verifyConsistency(1, 0, [], a, b)).toBe(false);
    expect(verifyConsistency(2, 1, [], a, b)).toBe(false);
    expect(verifyConsistency(1, 2, [], a, b)).toBe(false);
    expect(verifyConsistency(1, 2, [b], a.slice(0, 31), nodeHash(a, b))).toBe(false);
    expect(verifyConsistency(1.5, 2, [b], a, nodeHash(a, b))).toBe(false);
    expect(verifyConsistency(1, 2, [b], a, nodeHash(a, b))).toBe(true);
  });

  test("verifyInclusion rejects impossible positions and malformed hashes", () => {
    expect(verifyInclusion(a, 0, 0, [], a)).toBe(false);
    expect(verifyInclusion(a, 1, 1, [], a)).toBe(false);
    expect(verifyInclusion(a, 0, 1, [], a)).toBe(true);
    expect(verifyInclusion(a, -1, 1, [], a)).toBe(false);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], new Uint8Array(0))).toBe(false);
    expect(verifyInclusion(a, 0, 2, [b.slice(1)], nodeHash(a, b))).toBe(false);
  });
});

describe("proof requests that cannot be served", () => {
  const tree = new MemoryTree(syntheticLeaves(4));

  test("index past the tree, old size past new size", async () => {
    await expectThrowsCode(proveInclusion(4, 4, tree.read), "bad_range");
    await expectThrowsCode(proveInclusion(0, 0, tree.read), "bad_range");
    await expectThrowsCode(proveConsistency(5, 4, tree.read), "bad_proof");
    await expectThrowsCode(proveInclusion(-1, 4, tree.read), "bad_range");
  });

  test("a reader answering the wrong number or size of hashes", async () => {
    await expectThrowsCode(
      proveInclusion(0, 4, async () => []),
      "bad_hash",
    );
    await expectThrowsCode(
      treeRoot(3, async (refs) => refs.map(() => new Uint8Array(31))),
      "bad_hash",
    );
  });
});

describe("MerkleFrontier", () => {
  test("append returns exactly the nodes it completes, leaf first", () => {
    const frontier = new MerkleFrontier();
    const seen = new Set<string>();
    const leaves = syntheticLeaves(40);
    for (const [i, leaf] of leaves.entries()) {
      const completed = frontier.append(leaf);
      expect(completed[0]!.ref).toEqual({ level: 0, index: i });
      expect(toHex(completed[0]!.hash)).toBe(toHex(leaf));
      // The nodes completed by leaf i are those whose range ends at i + 1.
      const expected: NodeRef[] = [];
      for (let level = 0; (i + 1) % 2 ** level === 0; level++) expected.push({ level, index: (i + 1) / 2 ** level - 1 });
      expect(completed.map((node) => node.ref)).toEqual(expected);
      for (const node of completed) {
        const range = leafRangeOf(node.ref);
        expect(toHex(node.hash)).toBe(toHex(referenceRoot(leaves.slice(range.begin, range.end))));
        expect(seen.has(nodeKey(node.ref))).toBe(false);
        seen.add(nodeKey(node.ref));
      }
      expect(frontier.size).toBe(i + 1);
      expect(frontier.edge().map((node) => node.ref)).toEqual(subtreesOf(0, i + 1));
    }
  });

  test("fromNodes and fromReader restore a frontier that keeps appending identically", async () => {
    const leaves = syntheticLeaves(30);
    const tree = new MemoryTree(leaves.slice(0, 21));
    const restored = MerkleFrontier.fromNodes(
      21,
      tree.frontier.edge().map((node) => node.hash),
    );
    const read = await MerkleFrontier.fromReader(21, tree.read);
    for (const leaf of leaves.slice(21)) {
      expect(restored.append(leaf)).toEqual(tree.frontier.append(leaf));
      read.append(leaf);
    }
    expect(toHex(restored.root())).toBe(toHex(referenceRoot(leaves)));
    expect(toHex(read.root())).toBe(toHex(referenceRoot(leaves)));
  });

  test("fromNodes rejects hashes that do not fit the size", () => {
    const [a, b] = syntheticLeaves(2) as [Hash, Hash];
    expect(() => MerkleFrontier.fromNodes(3, [a])).toThrow(LedgerFormatError);
    expect(() => MerkleFrontier.fromNodes(1, [a, b])).toThrow(LedgerFormatError);
    expect(() => MerkleFrontier.fromNodes(1, [a.slice(0, 5)])).toThrow(LedgerFormatError);
    expect(MerkleFrontier.fromNodes(0, []).root()).toEqual(EMPTY_ROOT);
  });

  test("edge() and append() hand out copies", () => {
    const frontier = new MerkleFrontier();
    const [a, b] = syntheticLeaves(2) as [Hash, Hash];
    const completed = frontier.append(a);
    completed[0]!.hash.fill(0);
    frontier.edge()[0]!.hash.fill(0);
    a.fill(0);
    frontier.append(b);
    expect(toHex(frontier.root())).toBe(toHex(nodeHash(syntheticLeaves(1)[0]!, b)));
  });

  test("append rejects a leaf that is not a 32-byte hash", () => {
    expect(() => new MerkleFrontier().append(new Uint8Array(3))).toThrow(LedgerFormatError);
  });
});
