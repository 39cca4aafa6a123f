/**
 * Merkle tree index math, proofs and the append-only frontier of RFC 9162 §2.1 (identical to RFC 6962
 * §2.1), over a store of complete-subtree hashes.
 *
 * Every hash a log keeps is the hash of a *complete* subtree ({@link NodeRef}): such a hash never
 * changes once written. Hashes of incomplete right-edge subtrees, which proofs also need, are folded
 * here from their complete parts, so storage stays append-only.
 *
 * Sizes and indices are plain numbers, limited to 2^53 - 1, and all math is arithmetic (never the
 * 32-bit bitwise operators), so trees past 2^32 leaves work.
 */
import { LedgerFormatError } from "./errors.ts";
import { assertHash, EMPTY_ROOT, type Hash, hashEquals, isHash, nodeHash } from "./hash.ts";

/**
 * The complete subtree of 2^level leaves starting at leaf `index * 2^level`. Leaves are level 0; the
 * node {level, index} has children {level - 1, 2 * index} and {level - 1, 2 * index + 1}.
 */
export interface NodeRef {
  level: number;
  index: number;
}

/** A complete-subtree hash together with the node it belongs to. */
export interface StoredNode {
  ref: NodeRef;
  hash: Hash;
}

/**
 * Returns the stored hashes of complete subtrees, in the order asked. Implementations typically run
 * one database query or fetch a few tiles, so every function here gathers all the refs it needs and
 * calls the reader once, with O(log n) refs.
 */
export type HashReader = (refs: readonly NodeRef[]) => Promise<Hash[]>;

/** Half-open leaf range [begin, end). */
interface LeafRange {
  begin: number;
  end: number;
}

function assertCount(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new LedgerFormatError("bad_range", `${what} must be a non-negative safe integer, got ${value}`);
  }
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** The largest power of two strictly below n (n >= 2): where RFC 9162 splits a tree of n leaves. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  return n >= 1 && largestPowerOfTwoBelow(n + 1) === n;
}

/** Integer halving (a right shift by one) that stays exact above 2^32. */
function half(n: number): number {
  return Math.floor(n / 2);
}

function isOdd(n: number): boolean {
  return n % 2 === 1;
}

/** The leaves [begin, end) that a node covers. */
export function leafRangeOf(ref: NodeRef): LeafRange {
  const width = 2 ** ref.level;
  return { begin: ref.index * width, end: (ref.index + 1) * width };
}

/**
 * Splits the leaf range [begin, end) into maximal aligned complete subtrees, left to right. For
 * [0, size) these are the tree's right-edge "peaks", largest first; for any range there are at most
 * 2·log2(end - begin) + 2 of them.
 * @example subtreesOf(0, 6) → [{level: 2, index: 0}, {level: 1, index: 2}]
 */
export function subtreesOf(begin: number, end: number): NodeRef[] {
  assertCount(begin, "range begin");
  assertCount(end, "range end");
  if (begin > end) throw new LedgerFormatError("bad_range", `range begin ${begin} is after its end ${end}`);
  const refs: NodeRef[] = [];
  let at = begin;
  while (at < end) {
    let level = 0;
    let width = 1;
    while (at % (width * 2) === 0 && at + width * 2 <= end) {
      width *= 2;
      level++;
    }
    refs.push({ level, index: at / width });
    at += width;
  }
  return refs;
}

/**
 * MTH of a leaf range from the hashes of its {@link subtreesOf} decomposition: folded right to left,
 * which is exactly RFC 9162's split at the largest power of two for ranges that start on a boundary
 * at least as wide as the range (every range a proof or a root needs). No hashes → the empty root.
 */
export function rootOfRange(hashes: readonly Hash[]): Hash {
  if (hashes.length === 0) return EMPTY_ROOT;
  let root = hashes[hashes.length - 1]!;
  assertHash(root, "subtree hash");
  for (let i = hashes.length - 2; i >= 0; i--) root = nodeHash(hashes[i]!, root);
  return root;
}

/** Calls the reader once and checks it answered one 32-byte hash per ref. */
async function readAll(read: HashReader, refs: readonly NodeRef[]): Promise<Hash[]> {
  if (refs.length === 0) return [];
  const hashes = await read(refs);
  if (hashes.length !== refs.length) {
    throw new LedgerFormatError("bad_hash", `hash reader returned ${hashes.length} hashes for ${refs.length} nodes`);
  }
  for (const hash of hashes) assertHash(hash, "stored subtree hash");
  return hashes;
}

/** Reads every range's subtrees in one call, then folds each range to its MTH. */
async function rangeRoots(ranges: readonly LeafRange[], read: HashReader): Promise<Hash[]> {
  const perRange = ranges.map((range) => subtreesOf(range.begin, range.end));
  const hashes = await readAll(read, perRange.flat());
  const roots: Hash[] = [];
  let at = 0;
  for (const refs of perRange) {
    roots.push(rootOfRange(hashes.slice(at, at + refs.length)));
    at += refs.length;
  }
  return roots;
}

/** MTH(D[0:size]): the root of the tree of the first `size` leaves, in one read. */
export async function treeRoot(size: number, read: HashReader): Promise<Hash> {
  assertCount(size, "tree size");
  return rootOfRange(await readAll(read, subtreesOf(0, size)));
}

/**
 * The leaf ranges whose MTHs form PATH(index, D[0:size]) of RFC 9162 §2.1.3.1, leaf side first. Each
 * step halves the tree at the largest power of two below its width and keeps the sibling.
 */
function inclusionRanges(index: number, size: number): LeafRange[] {
  const rootSide: LeafRange[] = [];
  let begin = 0;
  let end = size;
  while (end - begin > 1) {
    const split = begin + largestPowerOfTwoBelow(end - begin);
    if (index < split) {
      rootSide.push({ begin: split, end });
      end = split;
    } else {
      rootSide.push({ begin, end: split });
      begin = split;
    }
  }
  return rootSide.reverse();
}

/**
 * The RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves (leaf side first),
 * read with one call to `read`. Throws LedgerFormatError("bad_range") unless index < size.
 */
export async function proveInclusion(index: number, size: number, read: HashReader): Promise<Hash[]> {
  assertCount(index, "leaf index");
  assertCount(size, "tree size");
  if (index >= size) throw new LedgerFormatError("bad_range", `leaf index ${index} is not below tree size ${size}`);
  return rangeRoots(inclusionRanges(index, size), read);
}

/**
 * The leaf ranges whose MTHs form PROOF(oldSize, D[0:newSize]) = SUBPROOF(oldSize, D[0:newSize], true)
 * of RFC 9162 §2.1.4.1, in proof order. `known` is SUBPROOF's flag b: whether the current subtree's
 * root is the old root the verifier already holds (true only while descending the left edge).
 */
function consistencyRanges(oldSize: number, newSize: number): LeafRange[] {
  const rootSide: LeafRange[] = [];
  let begin = 0;
  let end = newSize;
  let known = true;
  while (oldSize !== end) {
    const split = begin + largestPowerOfTwoBelow(end - begin);
    if (oldSize <= split) {
      rootSide.push({ begin: split, end });
      end = split;
    } else {
      rootSide.push({ begin, end: split });
      begin = split;
      known = false;
    }
  }
  if (!known) rootSide.push({ begin, end });
  return rootSide.reverse();
}

/**
 * The RFC 9162 §2.1.4.1 consistency proof from the tree of `oldSize` leaves to the tree of `newSize`
 * leaves, read with one call to `read`. Empty when oldSize is 0 or equals newSize (nothing to prove);
 * throws LedgerFormatError("bad_proof") when oldSize > newSize.
 */
export async function proveConsistency(oldSize: number, newSize: number, read: HashReader): Promise<Hash[]> {
  assertCount(oldSize, "old tree size");
  assertCount(newSize, "new tree size");
  if (oldSize > newSize) throw new LedgerFormatError("bad_proof", `old size ${oldSize} is above new size ${newSize}`);
  if (oldSize === 0 || oldSize === newSize) return [];
  return rangeRoots(consistencyRanges(oldSize, newSize), read);
}

/**
 * RFC 9162 §2.1.3.2: true when `proof` shows the leaf hash `leaf` at `index` in the tree of `size`
 * leaves whose root is `root`. Never throws: malformed input (wrong hash length, index ≥ size, a proof
 * too long or too short) is simply not a valid proof.
 */
export function verifyInclusion(leaf: Hash, index: number, size: number, proof: readonly Hash[], root: Hash): boolean {
  if (!isHash(leaf) || !isHash(root) || !proof.every(isHash)) return false;
  if (!isCount(index) || !isCount(size) || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && hashEquals(r, root);
}

/**
 * RFC 9162 §2.1.4.2: true when `proof` shows the tree of `oldSize` leaves with root `oldRoot` is a
 * prefix of the tree of `newSize` leaves with root `newRoot`. Never throws.
 *
 * The trivial cases, where the proof must be empty: equal sizes need equal roots; an old size of 0
 * needs `oldRoot` to be the empty-tree root, MTH({}) = SHA-256(""), since that is the only root an
 * empty tree has.
 */
export function verifyConsistency(oldSize: number, newSize: number, proof: readonly Hash[], oldRoot: Hash, newRoot: Hash): boolean {
  if (!isHash(oldRoot) || !isHash(newRoot) || !proof.every(isHash)) return false;
  if (!isCount(oldSize) || !isCount(newSize) || oldSize > newSize) return false;
  if (oldSize === newSize) return proof.length === 0 && hashEquals(oldRoot, newRoot);
  if (oldSize === 0) return proof.length === 0 && hashEquals(oldRoot, EMPTY_ROOT);
  if (proof.length === 0) return false;

  // When the old tree is a complete subtree its root is the first node of the path, left implicit.
  const path = isPowerOfTwo(oldSize) ? [oldRoot, ...proof] : proof;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (isOdd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (isOdd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!isOdd(fn)) {
        while (!isOdd(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && hashEquals(fr, oldRoot) && hashEquals(sr, newRoot);
}

function copyNode(node: StoredNode): StoredNode {
  return { ref: { level: node.ref.level, index: node.ref.index }, hash: node.hash.slice() };
}

/**
 * The append side of a log: the tree size and the hashes of {@link subtreesOf}(0, size), the right-edge
 * peaks, largest first. That is all a log must keep in memory to append leaves and compute roots;
 * every other hash goes to storage as it completes.
 *
 * Invariant: the edge's levels strictly decrease left to right and are the set bits of `size`.
 */
export class MerkleFrontier {
  #size = 0;
  #edge: StoredNode[] = [];

  /** Restores a frontier from the stored hashes of subtreesOf(0, size), in that order. */
  static fromNodes(size: number, hashes: readonly Hash[]): MerkleFrontier {
    assertCount(size, "tree size");
    const refs = subtreesOf(0, size);
    if (hashes.length !== refs.length) {
      throw new LedgerFormatError("bad_frontier", `a tree of ${size} leaves has ${refs.length} edge hashes, got ${hashes.length}`);
    }
    const frontier = new MerkleFrontier();
    frontier.#size = size;
    frontier.#edge = refs.map((ref, i) => {
      const hash = hashes[i];
      assertHash(hash, `edge hash ${i}`);
      return { ref, hash: hash.slice() };
    });
    return frontier;
  }

  /** Restores a frontier by reading its edge hashes with one call to `read`. */
  static async fromReader(size: number, read: HashReader): Promise<MerkleFrontier> {
    assertCount(size, "tree size");
    return MerkleFrontier.fromNodes(size, await readAll(read, subtreesOf(0, size)));
  }

  /** Number of leaves appended so far. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one leaf hash. Returns every complete-subtree node this completes, for the caller to
   * store: the leaf itself (level 0) first, then each parent it completes, bottom up.
   */
  append(leaf: Hash): StoredNode[] {
    assertHash(leaf, "leaf hash");
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new LedgerFormatError("bad_range", "tree size limit reached");
    let node: StoredNode = { ref: { level: 0, index: this.#size }, hash: leaf.slice() };
    const completed = [copyNode(node)];
    let last = this.#edge[this.#edge.length - 1];
    while (last !== undefined && last.ref.level === node.ref.level) {
      this.#edge.pop();
      node = { ref: { level: node.ref.level + 1, index: last.ref.index / 2 }, hash: nodeHash(last.hash, node.hash) };
      completed.push(copyNode(node));
      last = this.#edge[this.#edge.length - 1];
    }
    this.#edge.push(node);
    this.#size++;
    return completed;
  }

  /** MTH of all leaves appended so far (the empty root for an empty tree). */
  root(): Hash {
    return rootOfRange(this.#edge.map((node) => node.hash));
  }

  /** The right-edge nodes, subtreesOf(0, size), largest first (copies: mutating them is harmless). */
  edge(): StoredNode[] {
    return this.#edge.map(copyNode);
  }
}
