import { expect, test } from "bun:test";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomSecretKey } from "../crypto/ed25519.ts";
import { toHex } from "../crypto/hex.ts";
import { ed25519PublicKey } from "./ed25519-sync.ts";
import { type InferenceFacts, inferenceEntries } from "./entry.ts";
import { isCanonicalJson } from "./jcs.ts";
import { checkReceipt, type SignedReceipt, signReceipt } from "./receipt.ts";
import { MAX_ENTRY_BYTES } from "./tiles.ts";

const sk = randomSecretKey();
const node = toHex(ed25519PublicKey(sk));
const receiptFor = (layers: [number, number]): SignedReceipt =>
  signReceipt(
    {
      v: 1,
      request_id: "chatcmpl-x",
      node,
      model_sha256: "cd".repeat(32),
      layers,
      tokens: 9,
      frames_in: 3,
      frames_out: 3,
      input_chain: "00".repeat(32),
      output_chain: "11".repeat(32),
      cpu_ms: 2.25,
      energy_mj: 12.5,
      energy_method: "estimate",
    },
    sk,
  );

function facts(stageCount: number): InferenceFacts {
  return {
    requestId: "chatcmpl-x",
    model: { id: "m", sha256: "cd".repeat(32) },
    stages: Array.from({ length: stageCount }, (_, i) => ({
      attempt: Math.floor(i / 4),
      stage: i % 4,
      node,
      layers: [i, i + 1] as [number, number],
      receipt: receiptFor([i, i + 1]),
    })),
    promptTokens: 5,
    completionTokens: 4,
    finishReason: "length",
    promptSha256: "aa".repeat(32),
    outputSha256: "bb".repeat(32),
    latencyMs: 12,
    completedAt: 1_800_000_000_000,
  };
}

test("a normal request is one canonical inference entry keyed by its request id", () => {
  const entries = inferenceEntries(facts(2));
  expect(entries).toHaveLength(1);
  expect(entries[0]).toMatchObject({ key: "chatcmpl-x", type: "inference" });
  expect(isCanonicalJson(entries[0]!.bytes)).toBe(true);
  const parsed = JSON.parse(new TextDecoder().decode(entries[0]!.bytes));
  expect(Object.keys(parsed)).toEqual([...Object.keys(parsed)].sort());
  expect(parsed.stages[1].receipt.body.layers).toEqual([1, 2]);
});

test("when receipts would not fit the bundle limit, each moves into an entry of its own, referenced by hash", async () => {
  const entries = inferenceEntries(facts(200));
  expect(entries).toHaveLength(201);
  const main = entries.at(-1)!;
  expect(main.key).toBe("chatcmpl-x");
  for (const e of entries) {
    expect(e.bytes.length).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
    expect(isCanonicalJson(e.bytes)).toBe(true);
  }
  const stages = JSON.parse(new TextDecoder().decode(main.bytes)).stages as { receipt: null; receipt_sha256: string }[];
  expect(stages[7]?.receipt).toBeNull();
  const moved = entries[7]!;
  expect(moved.key).toBe("chatcmpl-x/receipt/1/3");
  expect(stages[7]?.receipt_sha256).toBe(toHex(sha256(moved.bytes)));
  const receipt = JSON.parse(new TextDecoder().decode(moved.bytes)).receipt;
  expect(await checkReceipt(receipt, { requestId: "chatcmpl-x", node, modelSha256: "cd".repeat(32), layers: [7, 8] })).toBeNull();
});
