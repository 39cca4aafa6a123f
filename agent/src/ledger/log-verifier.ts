/**
 * Verifying a coordinator's provenance log from the outside (docs/ledger.md, "Verifying"): the
 * checkpoint's signature and cosignatures, consistency with what this verifier saw before, the
 * whole tree recomputed from the level-0 tiles (and every higher tile checked against it), and
 * the entries asked for: bytes hashing to their leaves, canonical JSON, receipts' signatures.
 *
 * Everything the coordinator serves is treated as untrusted input: every failure becomes one
 * line naming the entry index, the tree size and what did not match; nothing here throws for a
 * lying server (only for one that cannot be reached).
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { fromHex, toHex } from "../../../shared/crypto/hex.ts";
import { decodeBase64, encodeBase64 } from "../../../shared/ledger/base64.ts";
import { openCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { verifyCosignature } from "../../../shared/ledger/cosignature.ts";
import { type Hash, hashEquals, leafHash } from "../../../shared/ledger/hash.ts";
import { isCanonicalJson } from "../../../shared/ledger/jcs.ts";
import { parseVkey } from "../../../shared/ledger/note.ts";
import { checkReceipt, receiptSignatureHolds, SignedReceiptSchema } from "../../../shared/ledger/receipt.ts";
import { decodeEntryBundle, entriesPath, hashesOfTile, TILE_HEIGHT, TILE_WIDTH, tilePath } from "../../../shared/ledger/tiles.ts";
import { MerkleFrontier, verifyConsistency, verifyInclusion } from "../../../shared/ledger/tree-math.ts";
import { nodeOfWitnessName } from "../../../shared/ledger/witness-name.ts";

/** What a verifier remembers of one log between runs. */
export interface SeenState {
  size: number;
  /** Root of that size, base64. */
  root: string;
  /** Entries [0, verified) have been checked. */
  verified: number;
}

export type EntrySelection = { kind: "new" } | { kind: "all" } | { kind: "index"; index: number } | { kind: "request"; id: string };

export interface VerifyReport {
  origin: string;
  size: number;
  root: string;
  entriesChecked: number;
  cosignatures: { valid: number; unknown: number };
  failures: string[];
  /** The state to remember when there were no failures. */
  next: SeenState;
}

/** Fetch one path under the coordinator; throws only when the coordinator cannot be reached or answers non-2xx. */
export type LogFetch = (path: string) => Promise<Uint8Array>;

const decoder = new TextDecoder("utf-8", { fatal: true });

export async function verifyLog(fetchPath: LogFetch, vkey: string, seen: SeenState | null, select: EntrySelection): Promise<VerifyReport> {
  const failures: string[] = [];
  let checked = 0;
  const key = parseVkey(vkey);
  const note = decoder.decode(await fetchPath("ledger/checkpoint"));
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    opened = openCheckpoint(note, key);
  } catch (err) {
    throw new VerifyFailure(`the checkpoint is malformed: ${(err as Error).message}`);
  }
  if (!opened) throw new VerifyFailure(`the checkpoint is not signed by the log key ${key.name}+${toHex(key.keyId)}`);
  const { checkpoint } = opened;
  const size = checkpoint.size;
  if (checkpoint.origin !== key.name)
    failures.push(`size ${size}: the checkpoint's origin is '${checkpoint.origin}', the key's name '${key.name}'`);

  // Cosignatures by nodes: the key name carries the node's public key.
  const cosignatures = { valid: 0, unknown: 0 };
  for (const sig of opened.note.signatures) {
    if (sig.name === key.name) continue;
    const node = nodeOfWitnessName(sig.name);
    if (!node) {
      cosignatures.unknown++;
      continue;
    }
    if (verifyCosignature(sig, opened.note.text, sig.name, fromHex(node)) === null) {
      failures.push(`size ${size}: the cosignature of ${sig.name} does not verify`);
    } else cosignatures.valid++;
  }

  // The whole tree from the level-0 tiles.
  const leaves: Hash[] = [];
  for (let n = 0; n * TILE_WIDTH < size; n++) {
    const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
    const bytes = await fetchPath(`ledger/${tilePath({ level: 0, index: n, width })}`);
    try {
      leaves.push(...hashesOfTile(bytes, width));
    } catch (err) {
      failures.push(`size ${size}: tile 0/${n}: ${(err as Error).message}`);
      return report();
    }
  }
  const frontier = new MerkleFrontier();
  const upper = new Map<string, Hash>(); // level·8 nodes, for the higher tiles
  let oldRoot: Hash | null = null;
  for (const [i, leaf] of leaves.entries()) {
    if (seen && i === seen.size) oldRoot = frontier.root();
    for (const node of frontier.append(leaf)) {
      if (node.ref.level > 0 && node.ref.level % TILE_HEIGHT === 0) upper.set(`${node.ref.level}/${node.ref.index}`, node.hash);
    }
  }
  if (seen && seen.size === size) oldRoot = frontier.root();
  const root = frontier.root();
  if (!hashEquals(root, checkpoint.rootHash)) {
    failures.push(
      `size ${size}: the tree recomputed from the tiles has root ${encodeBase64(root)}, the checkpoint says ${encodeBase64(checkpoint.rootHash)}`,
    );
  }
  for (let level = 1; 256 ** level <= size; level++) {
    const count = Math.floor(size / 256 ** level);
    for (let n = 0; n * TILE_WIDTH < count; n++) {
      const width = Math.min(TILE_WIDTH, count - n * TILE_WIDTH);
      const hashes = hashesOfTile(await fetchPath(`ledger/${tilePath({ level, index: n, width })}`), width);
      hashes.forEach((h, k) => {
        const expected = upper.get(`${level * TILE_HEIGHT}/${n * TILE_WIDTH + k}`);
        if (!expected || !hashEquals(h, expected))
          failures.push(`size ${size}: tile ${level}/${n} hash ${k} does not match the tree below it`);
      });
    }
  }

  // Consistency with what this verifier saw before, recomputed, and the server's own proof checked too.
  if (seen) {
    if (seen.size > size) failures.push(`size ${size}: the log shrank (this verifier saw size ${seen.size} before)`);
    else if (!oldRoot || !hashEquals(oldRoot, decodeBase64(seen.root) ?? new Uint8Array())) {
      failures.push(
        `size ${size}: not consistent with size ${seen.size} seen before (that root was ${seen.root}, the tree now has ${oldRoot ? encodeBase64(oldRoot) : "nothing"} there)`,
      );
    } else {
      const body = JSON.parse(decoder.decode(await fetchPath(`ledger/consistency?old=${seen.size}&new=${size}`))) as { proof: string[] };
      const proof = body.proof.map((h) => decodeBase64(h) ?? new Uint8Array());
      if (!verifyConsistency(seen.size, size, proof, oldRoot, checkpoint.rootHash))
        failures.push(`size ${size}: the served consistency proof from size ${seen.size} does not verify`);
    }
  }

  // The entries asked for.
  let range: [number, number];
  if (select.kind === "all") range = [0, size];
  else if (select.kind === "new") range = [Math.min(seen?.verified ?? 0, size), size];
  else {
    const index = select.kind === "index" ? select.index : await indexOfRequest(fetchPath, select.id, vkey, failures);
    if (index === null) return report();
    if (index >= size) {
      failures.push(`entry ${index}: not in the tree of size ${size}`);
      return report();
    }
    range = [index, index + 1];
  }
  const bundles = new Map<number, Uint8Array[]>();
  const entryAt = async (i: number): Promise<Uint8Array | null> => {
    const n = Math.floor(i / TILE_WIDTH);
    if (!bundles.has(n)) {
      const width = Math.min(TILE_WIDTH, size - n * TILE_WIDTH);
      try {
        bundles.set(n, decodeEntryBundle(await fetchPath(`ledger/${entriesPath(n, width)}`), width));
      } catch (err) {
        failures.push(`size ${size}: entry bundle ${n}: ${(err as Error).message}`);
        bundles.set(n, []);
      }
    }
    return bundles.get(n)?.[i % TILE_WIDTH] ?? null;
  };
  for (let i = range[0]; i < range[1]; i++) {
    const bytes = await entryAt(i);
    checked++;
    if (!bytes) continue;
    if (!hashEquals(leafHash(bytes), leaves[i]!)) {
      failures.push(
        `entry ${i} (size ${size}): its bytes hash to leaf ${encodeBase64(leafHash(bytes))}, the tree holds ${encodeBase64(leaves[i]!)}`,
      );
      continue;
    }
    if (!isCanonicalJson(bytes)) {
      failures.push(`entry ${i} (size ${size}): not canonical JSON`);
      continue;
    }
    await checkEntry(i, JSON.parse(decoder.decode(bytes)) as Record<string, unknown>);
  }
  return report();

  async function checkEntry(i: number, entry: Record<string, unknown>): Promise<void> {
    const where = `entry ${i} (size ${size})`;
    if (entry.type === "receipt") {
      const parsed = SignedReceiptSchema.safeParse(entry.receipt);
      if (!parsed.success || !(await receiptSignatureHolds(parsed.data)))
        failures.push(`${where}: the receipt's signature does not verify`);
      return;
    }
    if (entry.type !== "inference") return;
    const stages = Array.isArray(entry.stages) ? (entry.stages as Record<string, unknown>[]) : [];
    for (const [k, stage] of stages.entries()) {
      let receipt: unknown = stage.receipt;
      if (typeof stage.receipt_sha256 === "string") receipt = await movedReceipt(i, stage.receipt_sha256);
      if (receipt === null || receipt === undefined) continue; // logged as missing: the entry says so itself
      const layers: [number, number] = Array.isArray(stage.layers) ? (stage.layers as [number, number]) : [0, 0];
      const problem = await checkReceipt(receipt, {
        requestId: String(entry.request_id),
        node: String(stage.node),
        modelSha256: String(receipt && SignedReceiptSchema.safeParse(receipt).data?.body.model_sha256),
        layers,
      });
      if (problem) failures.push(`${where}: stage ${k} (node ${String(stage.node).slice(0, 16)}…): receipt ${problem.replace("_", " ")}`);
    }
  }

  /** A receipt moved into an entry of its own, logged shortly before the inference entry. */
  async function movedReceipt(i: number, hashHex: string): Promise<unknown> {
    for (let j = i - 1; j >= Math.max(0, i - 512); j--) {
      const bytes = await entryAt(j);
      if (bytes && toHex(sha256(bytes)) === hashHex) return (JSON.parse(decoder.decode(bytes)) as { receipt?: unknown }).receipt ?? null;
    }
    failures.push(`entry ${i} (size ${size}): the receipt entry ${hashHex.slice(0, 16)}… it references is not in the log before it`);
    return null;
  }

  function report(): VerifyReport {
    const rootB64 = encodeBase64(checkpoint.rootHash);
    return {
      origin: checkpoint.origin,
      size,
      root: rootB64,
      entriesChecked: checked,
      cosignatures,
      failures,
      next: { size, root: rootB64, verified: Math.max(seen?.verified ?? 0, select.kind === "all" || select.kind === "new" ? size : 0) },
    };
  }
}

/** The index of a request's entry, with the served inclusion proof checked against its own signed checkpoint. */
async function indexOfRequest(fetchPath: LogFetch, id: string, vkey: string, failures: string[]): Promise<number | null> {
  let body: { index: number; entry_bytes: string; checkpoint: { note: string }; inclusion_proof: string[] };
  try {
    body = JSON.parse(decoder.decode(await fetchPath(`ledger/request/${encodeURIComponent(id)}`)));
  } catch (err) {
    failures.push(`request ${id}: not found in the log (${(err as Error).message})`);
    return null;
  }
  const opened = openCheckpoint(body.checkpoint.note, vkey);
  const bytes = decodeBase64(body.entry_bytes);
  if (!opened || !bytes) {
    failures.push(`entry ${body.index}: the checkpoint served with request ${id} is not signed by the log key`);
    return body.index;
  }
  const proof = body.inclusion_proof.map((h) => decodeBase64(h) ?? new Uint8Array());
  if (!verifyInclusion(leafHash(bytes), body.index, opened.checkpoint.size, proof, opened.checkpoint.rootHash)) {
    failures.push(`entry ${body.index} (size ${opened.checkpoint.size}): the served inclusion proof for request ${id} does not verify`);
  }
  return body.index;
}

/** The checkpoint itself cannot be trusted: nothing else can be checked. */
export class VerifyFailure extends Error {}
