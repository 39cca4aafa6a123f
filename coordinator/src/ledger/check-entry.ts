/**
 * Log entries of Proof of Useful Work (docs/verification.md, "Ledger entries"): a conclusive
 * re-execution check, and the exclusion of a node that failed one.
 */
import type { LogEntry } from "../../../shared/ledger/entry.ts";
import { canonicalBytes } from "../../../shared/ledger/jcs.ts";

export type CheckVerdict = "agree" | "node_failed" | "verifier_failed" | "arbiter_failed" | "dispute";

export interface CheckFacts {
  requestId: string;
  /** The checked stage session's id (one request may have several checked sessions). */
  session: number;
  modelSha256: string;
  layers: [number, number];
  stage: number;
  node: string;
  verifier: string;
  arbiter: string | null;
  /** Steps the verifier re-executed (0…K). */
  steps: number;
  verdict: CheckVerdict;
  /** The first step where the checked node and the verifier differed, or null. */
  mismatchStep: number | null;
  at: number;
}

export function checkEntry(f: CheckFacts): LogEntry {
  // A session can be checked twice (its first sampled step at once, later ones at its end).
  const key = `check/${f.requestId}/${f.session}/${f.steps}`;
  return {
    key,
    type: "check",
    bytes: canonicalBytes({
      type: "check",
      v: 1,
      request_id: f.requestId,
      model_sha256: f.modelSha256,
      layers: f.layers,
      stage: f.stage,
      node: f.node,
      verifier: f.verifier,
      arbiter: f.arbiter,
      steps: f.steps,
      verdict: f.verdict,
      mismatch_step: f.mismatchStep,
      at: f.at,
    }),
  };
}

export function exclusionEntry(node: string, reason: string, failedChecks: number, checkKey: string, at: number): LogEntry {
  return {
    key: `exclusion/${node}`,
    type: "exclusion",
    bytes: canonicalBytes({ type: "exclusion", v: 1, node, reason, failed_checks: failedChecks, check_key: checkKey, at }),
  };
}
