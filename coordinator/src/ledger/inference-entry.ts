/**
 * The log entries of a completed request (docs/ledger.md, "Entries"): every opened chain's
 * stages with their receipts, each receipt checked before it is logged — a bad or missing one
 * is logged against its node instead.
 */
import { sha256OfTokens } from "../../../shared/crypto/hash.ts";
import { inferenceEntries, type LogEntry, type StageRecord } from "../../../shared/ledger/entry.ts";
import { checkReceipt, type SignedReceipt } from "../../../shared/ledger/receipt.ts";
import type { PipelineRun } from "../swarm/pipeline-run.ts";

export async function inferenceEntriesOf(run: PipelineRun, finishReason: "stop" | "length", completedAt: number): Promise<LogEntry[]> {
  const opened = run.attempts.filter((a) => a.opened);
  const stages: StageRecord[] = [];
  for (const [attemptIndex, attempt] of opened.entries()) {
    for (const [i, s] of attempt.stages.entries()) {
      const layers: [number, number] = [s.layerBegin, s.layerEnd];
      const receipt = attempt.receipts.get(i);
      const problem = await checkReceipt(receipt, { requestId: run.requestId, node: s.nodeId, modelSha256: s.sha256, layers });
      stages.push(
        problem === null
          ? { attempt: attemptIndex, stage: i, node: s.nodeId, layers, receipt: receipt as SignedReceipt }
          : { attempt: attemptIndex, stage: i, node: s.nodeId, layers, receipt: null, receipt_problem: problem },
      );
    }
  }
  const final = opened[opened.length - 1]?.stages[0];
  return inferenceEntries({
    requestId: run.requestId,
    model: { id: run.model, sha256: final?.sha256 ?? "" },
    stages,
    promptTokens: run.prompt!.length,
    completionTokens: run.generated.length,
    finishReason,
    promptSha256: await sha256OfTokens(run.prompt!),
    outputSha256: await sha256OfTokens(run.generated),
    latencyMs: completedAt - run.startedAt,
    completedAt,
  });
}
