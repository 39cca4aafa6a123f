/**
 * Log entries (docs/ledger.md, "Entries"): canonical JSON objects with a top-level `type`. This
 * module builds the `inference` entry of a completed request — moving receipts into entries of
 * their own when the whole would not fit the 65,535-byte bundle limit — and lists the receipts an
 * entry carries, for verifiers.
 */
import { sha256 } from "@noble/hashes/sha2.js";
import { toHex } from "../crypto/hex.ts";
import { canonicalBytes } from "./jcs.ts";
import type { ReceiptProblem, SignedReceipt } from "./receipt.ts";
import { MAX_ENTRY_BYTES } from "./tiles.ts";

export interface StageRecord {
  attempt: number;
  stage: number;
  node: string;
  layers: [number, number];
  receipt: SignedReceipt | null;
  receipt_problem?: ReceiptProblem;
}

export interface InferenceFacts {
  requestId: string;
  model: { id: string; sha256: string };
  stages: StageRecord[];
  promptTokens: number;
  completionTokens: number;
  finishReason: "stop" | "length";
  promptSha256: string;
  outputSha256: string;
  latencyMs: number;
  completedAt: number;
}

/** One entry ready to log: its key (unique in the log), type and exact bytes. */
export interface LogEntry {
  key: string;
  type: string;
  bytes: Uint8Array;
}

/** The entries of one completed request, in log order: receipts moved out (if any), then the inference entry. */
export function inferenceEntries(f: InferenceFacts): LogEntry[] {
  const body = (stages: unknown[]) => ({
    type: "inference",
    v: 1,
    request_id: f.requestId,
    model: f.model,
    stages,
    prompt_tokens: f.promptTokens,
    completion_tokens: f.completionTokens,
    finish_reason: f.finishReason,
    prompt_sha256: f.promptSha256,
    output_sha256: f.outputSha256,
    latency_ms: f.latencyMs,
    completed_at: f.completedAt,
  });
  const whole = canonicalBytes(body(f.stages));
  if (whole.length <= MAX_ENTRY_BYTES) return [{ key: f.requestId, type: "inference", bytes: whole }];
  const out: LogEntry[] = [];
  const stages = f.stages.map((s) => {
    if (!s.receipt) return s;
    const bytes = canonicalBytes({ type: "receipt", request_id: f.requestId, attempt: s.attempt, stage: s.stage, receipt: s.receipt });
    out.push({ key: `${f.requestId}/receipt/${s.attempt}/${s.stage}`, type: "receipt", bytes });
    const { receipt: _moved, ...rest } = s;
    return { ...rest, receipt: null, receipt_sha256: toHex(sha256(bytes)) };
  });
  const main = canonicalBytes(body(stages));
  if (main.length > MAX_ENTRY_BYTES)
    throw new RangeError(`the inference entry of ${f.requestId} is ${main.length} bytes even without receipts`);
  out.push({ key: f.requestId, type: "inference", bytes: main });
  return out;
}
