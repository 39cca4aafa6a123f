/** The explorer's in-browser checks (entry-proof.ts), on a small log built here. */
import { describe, expect, test } from "bun:test";
import { toHex } from "../crypto/hex.ts";
import { encodeBase64 } from "./base64.ts";
import { formatCheckpoint } from "./checkpoint.ts";
import { signCosignature } from "./cosignature.ts";
import { ed25519PublicKey } from "./ed25519-sync.ts";
import { checkConsistency, checkServedEntry, type ServedEntry } from "./entry-proof.ts";
import { leafHash } from "./hash.ts";
import { canonicalBytes } from "./jcs.ts";
import { formatNote, formatVkey, signNoteText } from "./note.ts";
import { type ReceiptBody, signReceipt } from "./receipt.ts";
import { referenceConsistency, referencePath, referenceRoot } from "./test-fixtures.ts";
import { witnessName } from "./witness-name.ts";

const ORIGIN = "aria.test/explorer";
const logKey = new Uint8Array(32).fill(3);
const vkey = formatVkey(ORIGIN, ed25519PublicKey(logKey));
const nodeKey = new Uint8Array(32).fill(9);
const node = toHex(ed25519PublicKey(nodeKey));

const body: ReceiptBody = {
  v: 1,
  request_id: "chatcmpl-1",
  node,
  model_sha256: "ab".repeat(32),
  layers: [0, 6],
  tokens: 4,
  frames_in: 1,
  frames_out: 1,
  input_chain: "01".repeat(32),
  output_chain: "02".repeat(32),
  cpu_ms: 1,
  energy_mj: 7.5,
  energy_method: "estimate",
};
const entries = [
  canonicalBytes({ type: "consent", v: 1, node }),
  canonicalBytes({
    type: "inference",
    v: 1,
    request_id: "chatcmpl-1",
    stages: [{ attempt: 0, stage: 0, node, receipt: signReceipt(body, nodeKey) }],
  }),
  canonicalBytes({ type: "consent", v: 1, node: "cd".repeat(32) }),
];
const leaves = entries.map(leafHash);

function note(size: number): { note: string; text: string } {
  const text = formatCheckpoint({ origin: ORIGIN, size, rootHash: referenceRoot(leaves.slice(0, size)) });
  return { note: formatNote(text, [signNoteText(text, ORIGIN, logKey)]), text };
}

function served(index: number, bytes = entries[index]!): ServedEntry {
  const { note: n } = note(entries.length);
  return {
    index,
    entry_bytes: encodeBase64(bytes),
    leaf_hash: encodeBase64(leafHash(bytes)),
    checkpoint: { size: entries.length, root_hash: encodeBase64(referenceRoot(leaves)), note: n },
    inclusion_proof: referencePath(index, leaves).map(encodeBase64),
  };
}

describe("checkServedEntry", () => {
  test("a logged entry passes every check, receipts and cosignatures included", async () => {
    const cosig = signCosignature(note(entries.length).text, witnessName(node), nodeKey, 1_800_000_000).trimEnd();
    const { checks, entry } = await checkServedEntry(served(1), vkey, [cosig]);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.map((c) => c.name)).toEqual([
      "canonical JSON",
      "leaf hash",
      "checkpoint signature",
      "inclusion proof",
      `cosignature ${witnessName(node).slice(0, 26)}…`,
      "receipt of stage 0 (attempt 0)",
    ]);
    expect(entry?.request_id).toBe("chatcmpl-1");
  });

  test("changed bytes fail the inclusion proof, saying the entry was changed", async () => {
    const changed = canonicalBytes({ type: "consent", v: 1, node: "ef".repeat(32) });
    const { checks } = await checkServedEntry(served(0, changed), vkey);
    const inclusion = checks.find((c) => c.name === "inclusion proof")!;
    expect(inclusion.ok).toBe(false);
    expect(inclusion.detail).toContain("the entry was changed after it was logged");
  });

  test("another log key, a forged cosignature, a forged receipt and garbage all fail by name", async () => {
    const other = formatVkey(ORIGIN, ed25519PublicKey(new Uint8Array(32).fill(4)));
    expect((await checkServedEntry(served(1), other)).checks.find((c) => c.name === "checkpoint signature")?.ok).toBe(false);
    const wrongCosig = signCosignature(note(2).text, witnessName(node), nodeKey, 1_800_000_000).trimEnd();
    const cos = (await checkServedEntry(served(1), vkey, [wrongCosig])).checks.find((c) => c.name.startsWith("cosignature"));
    expect(cos?.ok).toBe(false);
    const forged = canonicalBytes({
      type: "inference",
      v: 1,
      stages: [{ attempt: 0, stage: 0, node, receipt: { ...signReceipt(body, nodeKey), body: { ...body, energy_mj: 1 } } }],
    });
    const r = (await checkServedEntry({ ...served(1), entry_bytes: encodeBase64(forged) }, vkey)).checks.find((c) =>
      c.name.startsWith("receipt"),
    );
    expect(r?.ok).toBe(false);
    const garbage = await checkServedEntry({ ...served(1), entry_bytes: "%%%" }, vkey);
    expect(garbage.checks).toEqual([{ name: "entry bytes", ok: false, detail: "the served entry is not base64" }]);
    expect((await checkServedEntry(served(1), "not a key")).checks.find((c) => c.name === "checkpoint signature")?.ok).toBe(false);
  });
});

describe("checkConsistency", () => {
  test("a grown log is consistent with its past; a proof for other roots is not", () => {
    const proof = referenceConsistency(2, leaves).map(encodeBase64);
    expect(checkConsistency(note(2).note, note(3).note, proof, vkey).every((c) => c.ok)).toBe(true);
    const bad = checkConsistency(note(1).note, note(3).note, proof, vkey);
    expect(bad.find((c) => c.name === "consistency proof")?.ok).toBe(false);
  });
});
