/**
 * Test-only helpers: the RFC 6962 / RFC 9162 reference definitions written as literally as possible
 * (recursive MTH, PATH, PROOF) and an in-memory node store that counts how it is read.
 */
import { fromHex } from "../crypto/hex.ts";
import { type LedgerErrorCode, LedgerFormatError } from "./errors.ts";
import { EMPTY_ROOT, type Hash, leafHash, nodeHash } from "./hash.ts";
import { type HashReader, largestPowerOfTwoBelow, MerkleFrontier, type NodeRef } from "./tree-math.ts";

/** The classic eight RFC 6962 (Certificate Transparency) test entries. */
export const CT_ENTRIES: Uint8Array[] = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
].map(fromHex);

/** MTH of the first 1..8 CT entries. */
export const CT_ROOTS: Hash[] = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
].map(fromHex);

/** MTH(D[0:n]) straight from the RFC's recursive definition. */
export function referenceRoot(leaves: readonly Hash[]): Hash {
  if (leaves.length === 0) return EMPTY_ROOT;
  if (leaves.length === 1) return leaves[0]!;
  const k = largestPowerOfTwoBelow(leaves.length);
  return nodeHash(referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** PATH(m, D[n]) straight from the RFC's recursive definition. */
export function referencePath(m: number, leaves: readonly Hash[]): Hash[] {
  if (leaves.length <= 1) return [];
  const k = largestPowerOfTwoBelow(leaves.length);
  if (m < k) return [...referencePath(m, leaves.slice(0, k)), referenceRoot(leaves.slice(k))];
  return [...referencePath(m - k, leaves.slice(k)), referenceRoot(leaves.slice(0, k))];
}

/** SUBPROOF(m, D[n], b) straight from the RFC's recursive definition. */
function referenceSubproof(m: number, leaves: readonly Hash[], known: boolean): Hash[] {
  if (m === leaves.length) return known ? [] : [referenceRoot(leaves)];
  const k = largestPowerOfTwoBelow(leaves.length);
  if (m <= k) return [...referenceSubproof(m, leaves.slice(0, k), known), referenceRoot(leaves.slice(k))];
  return [...referenceSubproof(m - k, leaves.slice(k), false), referenceRoot(leaves.slice(0, k))];
}

/** PROOF(m, D[n]) = SUBPROOF(m, D[n], true), for 0 < m < n. */
export function referenceConsistency(m: number, leaves: readonly Hash[]): Hash[] {
  return referenceSubproof(m, leaves, true);
}

/** Distinct, deterministic leaf hashes: leafHash of the index as 4 big-endian bytes. */
export function syntheticLeaves(count: number): Hash[] {
  const leaves: Hash[] = [];
  for (let i = 0; i < count; i++) {
    const entry = new Uint8Array(4);
    new DataView(entry.buffer).setUint32(0, i);
    leaves.push(leafHash(entry));
  }
  return leaves;
}

export function nodeKey(ref: NodeRef): string {
  return `${ref.level}/${ref.index}`;
}

/** Every complete-subtree hash of a tree, kept the way a log stores them, plus a counting reader. */
export class MemoryTree {
  readonly nodes = new Map<string, Hash>();
  readonly frontier = new MerkleFrontier();
  /** The refs of every read call, in order. */
  readonly reads: NodeRef[][] = [];

  constructor(leaves: readonly Hash[] = []) {
    for (const leaf of leaves) this.append(leaf);
  }

  append(leaf: Hash): void {
    for (const node of this.frontier.append(leaf)) this.nodes.set(nodeKey(node.ref), node.hash);
  }

  readonly read: HashReader = async (refs) => {
    this.reads.push([...refs]);
    return refs.map((ref) => {
      const hash = this.nodes.get(nodeKey(ref));
      if (hash === undefined) throw new Error(`no stored node ${nodeKey(ref)}`);
      return hash;
    });
  };
}

/** A copy of `hash` with one bit flipped. */
export function flipBit(hash: Hash, bit = 0): Hash {
  const copy = hash.slice();
  const at = Math.floor(bit / 8);
  copy[at] = (copy[at] ?? 0) ^ (1 << (bit % 8));
  return copy;
}

/** Runs `fn` and checks that it throws a LedgerFormatError with this code; throws otherwise. */
export function expectCode(fn: () => unknown, code: LedgerErrorCode | string): void {
  try {
    fn();
  } catch (error) {
    if (error instanceof LedgerFormatError && error.code === code) return;
    throw new Error(`expected a LedgerFormatError ${code}, got ${error instanceof LedgerFormatError ? error.code : String(error)}`);
  }
  throw new Error(`expected a LedgerFormatError ${code}, but nothing was thrown`);
}
