/**
 * Checking one served log entry without trusting the server (docs/dashboard.md, "The admin
 * ledger explorer"): the leaf hash recomputed from the entry's bytes, its inclusion proof to the
 * checkpoint's root, the checkpoint's signature by the log key, each witness cosignature, and
 * each stage receipt's signature; and the consistency of two checkpoints. Pure: the browser and
 * tests call it with what `/ledger/entry/<i>` and `/ledger/consistency` returned. Never throws for
 * bad input: every problem is a failed check that says what did not match.
 */
import { fromHex } from "../crypto/hex.ts";
import { decodeBase64 } from "./base64.ts";
import { openCheckpoint } from "./checkpoint.ts";
import { verifyCosignature } from "./cosignature.ts";
import { hashEquals, leafHash } from "./hash.ts";
import { isCanonicalJson } from "./jcs.ts";
import { parseSignatureLines, parseVkey } from "./note.ts";
import { receiptSignatureHolds, SignedReceiptSchema } from "./receipt.ts";
import { verifyConsistency, verifyInclusion } from "./tree-math.ts";
import { nodeOfWitnessName } from "./witness-name.ts";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** What `/ledger/entry/<i>` (or `/ledger/request/<id>`) returns. */
export interface ServedEntry {
  index: number;
  entry_bytes: string;
  leaf_hash: string;
  checkpoint: { size: number; root_hash: string; note: string };
  inclusion_proof: string[];
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** The checks of one entry; `cosignatures` are signature lines for the same checkpoint text. */
export async function checkServedEntry(
  served: ServedEntry,
  vkey: string,
  cosignatures: readonly string[] = [],
): Promise<{ checks: Check[]; entry: Record<string, unknown> | null }> {
  const checks: Check[] = [];
  const add = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const bytes = decodeBase64(served.entry_bytes);
  if (!bytes) {
    add("entry bytes", false, "the served entry is not base64");
    return { checks, entry: null };
  }
  let entry: Record<string, unknown> | null = null;
  try {
    entry = JSON.parse(decoder.decode(bytes)) as Record<string, unknown>;
    add(
      "canonical JSON",
      isCanonicalJson(bytes),
      isCanonicalJson(bytes) ? "the entry is RFC 8785 canonical JSON" : "the entry is JSON but not canonical",
    );
  } catch {
    add("canonical JSON", false, "the entry bytes are not UTF-8 JSON");
  }
  const leaf = leafHash(bytes);
  const servedLeaf = decodeBase64(served.leaf_hash);
  add(
    "leaf hash",
    servedLeaf !== undefined && hashEquals(leaf, servedLeaf),
    servedLeaf && hashEquals(leaf, servedLeaf)
      ? "SHA-256(0x00 ‖ entry bytes) is the leaf hash the server names"
      : "the server names another leaf hash than these bytes have",
  );

  let key: ReturnType<typeof parseVkey> | null = null;
  try {
    key = parseVkey(vkey.trim());
  } catch (err) {
    add("checkpoint signature", false, `the log key is not a valid verifier key: ${(err as Error).message}`);
  }
  let opened: ReturnType<typeof openCheckpoint> = null;
  if (key) {
    try {
      opened = openCheckpoint(served.checkpoint.note, key);
    } catch (err) {
      add("checkpoint signature", false, `the checkpoint is malformed: ${(err as Error).message}`);
      key = null;
    }
  }
  if (key) {
    add(
      "checkpoint signature",
      opened !== null,
      opened ? `signed by ${key.name}` : `the checkpoint is not signed by the key ${key.name} in the key field`,
    );
  }
  if (opened) {
    const { checkpoint } = opened;
    const proof = served.inclusion_proof.map((h) => decodeBase64(h));
    const proofOk =
      proof.every((h) => h !== undefined) &&
      verifyInclusion(leaf, served.index, checkpoint.size, proof as Uint8Array[], checkpoint.rootHash);
    add(
      "inclusion proof",
      proofOk,
      proofOk
        ? `entry ${served.index} is in the tree of size ${checkpoint.size} whose root the log signed`
        : `the leaf hash of these bytes is not in the signed tree of size ${checkpoint.size} at index ${served.index}: the entry was changed after it was logged, or the proof is wrong`,
    );
    for (const line of cosignatures) checks.push(cosignatureCheck(line, opened.note.text));
  }
  if (entry) checks.push(...(await receiptChecks(entry)));
  return { checks, entry };
}

function cosignatureCheck(line: string, checkpointText: string): Check {
  try {
    const [sig] = parseSignatureLines(`${line.trim()}\n`);
    const node = nodeOfWitnessName(sig!.name);
    if (!node) return { name: `cosignature ${sig!.name}`, ok: false, detail: "not a node witness name (aria-node/<node id>)" };
    const at = verifyCosignature(sig!, checkpointText, sig!.name, fromHex(node));
    return {
      name: `cosignature ${sig!.name.slice(0, 26)}…`,
      ok: at !== null,
      detail:
        at !== null
          ? `witnessed at ${new Date(at * 1000).toISOString()}`
          : "the cosignature does not verify against the witness's node key",
    };
  } catch (err) {
    return { name: "cosignature", ok: false, detail: `malformed: ${(err as Error).message}` };
  }
}

/** Receipts carried inline by an inference entry (or a moved receipt entry). */
async function receiptChecks(entry: Record<string, unknown>): Promise<Check[]> {
  const receipts: { where: string; receipt: unknown }[] = [];
  if (entry.type === "receipt") receipts.push({ where: "receipt", receipt: entry.receipt });
  if (entry.type === "inference" && Array.isArray(entry.stages)) {
    for (const s of entry.stages as Record<string, unknown>[]) {
      if (s.receipt) receipts.push({ where: `receipt of stage ${s.stage} (attempt ${s.attempt})`, receipt: s.receipt });
    }
  }
  const out: Check[] = [];
  for (const { where, receipt } of receipts) {
    const parsed = SignedReceiptSchema.safeParse(receipt);
    const ok = parsed.success && (await receiptSignatureHolds(parsed.data));
    out.push({
      name: where,
      ok,
      detail: ok
        ? `signed by node ${parsed.data!.body.node.slice(0, 16)}…: ${parsed.data!.body.energy_mj} mJ (${parsed.data!.body.energy_method})`
        : "the receipt's signature does not verify against the node it names",
    });
  }
  return out;
}

/** Two signed checkpoints and the served consistency proof between them. */
export function checkConsistency(oldNote: string, newNote: string, proofB64: readonly string[], vkey: string): Check[] {
  const checks: Check[] = [];
  let key: ReturnType<typeof parseVkey>;
  try {
    key = parseVkey(vkey.trim());
  } catch (err) {
    return [{ name: "log key", ok: false, detail: `not a valid verifier key: ${(err as Error).message}` }];
  }
  const open = (note: string) => {
    try {
      return openCheckpoint(note, key);
    } catch {
      return null;
    }
  };
  const a = open(oldNote);
  const b = open(newNote);
  checks.push({
    name: "older checkpoint signature",
    ok: a !== null,
    detail: a ? `size ${a.checkpoint.size}` : "not signed by the log key",
  });
  checks.push({
    name: "newer checkpoint signature",
    ok: b !== null,
    detail: b ? `size ${b.checkpoint.size}` : "not signed by the log key",
  });
  if (!a || !b) return checks;
  const proof = proofB64.map((h) => decodeBase64(h));
  const ok =
    proof.every((h) => h !== undefined) &&
    a.checkpoint.size <= b.checkpoint.size &&
    verifyConsistency(a.checkpoint.size, b.checkpoint.size, proof as Uint8Array[], a.checkpoint.rootHash, b.checkpoint.rootHash);
  checks.push({
    name: "consistency proof",
    ok,
    detail: ok
      ? `the tree of size ${b.checkpoint.size} extends the tree of size ${a.checkpoint.size}`
      : `the tree of size ${b.checkpoint.size} does not provably extend the tree of size ${a.checkpoint.size}`,
  });
  return checks;
}
