/**
 * Stage receipts (docs/ledger.md, "Receipts"): what one node says it did for one request, signed
 * with its node key over a domain-separated canonical form. Agents make them, the coordinator
 * checks them before logging, and verifiers re-check them from the log.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { z } from "zod";
import { toHex } from "../crypto/hex.ts";
import { canonicalSignatureHolds, hexBytes, signCanonical } from "./signed-json.ts";

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

export const ReceiptBodySchema = z.strictObject({
  v: z.literal(1),
  request_id: z.string().min(1).max(128),
  node: hexBytes(32),
  model_sha256: hexBytes(32),
  /** [begin, end) of the layers this stage ran. */
  layers: z.tuple([count, count]),
  tokens: count,
  frames_in: count,
  frames_out: count,
  input_chain: hexBytes(32),
  output_chain: hexBytes(32),
  cpu_ms: z.number().nonnegative().finite(),
  /** Energy this stage attests it used for the request, mJ (Proof of Sobriety, docs/energy.md). */
  energy_mj: z.number().nonnegative().finite(),
  /** How it was measured: the CPU package's RAPL counters, or CPU time × a per-core power. */
  energy_method: z.enum(["rapl", "estimate"]),
});
export type ReceiptBody = z.infer<typeof ReceiptBodySchema>;

export const SignedReceiptSchema = z.strictObject({ body: ReceiptBodySchema, signature: hexBytes(64) });
export type SignedReceipt = z.infer<typeof SignedReceiptSchema>;

/** Domain separation: a receipt signature can never be mistaken for any other signed message. */
const RECEIPT_PREFIX = "aria-receipt:v1\n";

export function signReceipt(body: ReceiptBody, secretKey: Uint8Array): SignedReceipt {
  return { body, signature: signCanonical(RECEIPT_PREFIX, body, secretKey) };
}

/** True when the signature is the named node's over this body; never throws. */
export function receiptSignatureHolds(receipt: SignedReceipt): Promise<boolean> {
  return canonicalSignatureHolds(RECEIPT_PREFIX, receipt.body, receipt.signature, receipt.body.node);
}

/** Why a receipt is not the one the log expects for a stage, or null when it is. */
export type ReceiptProblem = "missing" | "malformed" | "bad_signature" | "wrong_request" | "wrong_node" | "wrong_model" | "wrong_layers";

export async function checkReceipt(
  receipt: unknown,
  expected: { requestId: string; node: string; modelSha256: string; layers: readonly [number, number] },
): Promise<ReceiptProblem | null> {
  if (receipt === undefined || receipt === null) return "missing";
  const parsed = SignedReceiptSchema.safeParse(receipt);
  if (!parsed.success) return "malformed";
  const r = parsed.data;
  if (r.body.node !== expected.node) return "wrong_node";
  if (!(await receiptSignatureHolds(r))) return "bad_signature";
  if (r.body.request_id !== expected.requestId) return "wrong_request";
  if (r.body.model_sha256 !== expected.modelSha256) return "wrong_model";
  if (r.body.layers[0] !== expected.layers[0] || r.body.layers[1] !== expected.layers[1]) return "wrong_layers";
  return null;
}

/**
 * A running hash chain: c₀ = 32 zero bytes, cₖ₊₁ = SHA-256(cₖ ‖ u32le(pos0) ‖ u32le(rows) ‖ payload).
 * Over activation frames the payload is the rows as little-endian f32; over token ids, u32le ids.
 */
export class HashChain {
  private value: Uint8Array = new Uint8Array(32);
  links = 0;

  add(pos0: number, rows: number, payload: Uint8Array): void {
    const head = new Uint8Array(8);
    const view = new DataView(head.buffer);
    view.setUint32(0, pos0, true);
    view.setUint32(4, rows, true);
    const h = sha256.create();
    h.update(this.value);
    h.update(head);
    h.update(payload);
    this.value = h.digest();
    this.links++;
  }

  addTokens(pos0: number, ids: readonly number[]): void {
    const bytes = new Uint8Array(ids.length * 4);
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < ids.length; i++) view.setUint32(i * 4, ids[i]! >>> 0, true);
    this.add(pos0, ids.length, bytes);
  }

  hex(): string {
    return toHex(this.value);
  }
}
