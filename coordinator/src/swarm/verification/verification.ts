/**
 * Proof of Useful Work in the Swarm (docs/verification.md): draws which stage sessions are
 * checked, keeps their copies through a SessionWatch, re-executes them on a verifier (and on an
 * arbiter when the two differ), and turns the outcome into node standings, ledger entries and
 * exclusions. The Swarm routes replay sessions' messages here and acts for it through the host.
 *
 * Invariants:
 * - A node is never its own verifier or arbiter, and verifiers hold the same file and layers.
 * - Nobody is excluded on one disagreement: only when two other nodes agree against it.
 * - Copies are freed when no check needs them any more (SessionWatch.checkDone).
 */
import type { LogEntry } from "../../../../shared/ledger/entry.ts";
import type { SampledMessage } from "../../../../shared/protocol/messages.ts";
import { type CheckFacts, type CheckVerdict, checkEntry, exclusionEntry } from "../../ledger/check-entry.ts";
import { checkRateOf, reputationOf, secureUniform } from "./check-rate.ts";
import type { NodeRecord, NodeStats } from "./node-stats.ts";
import { ByteBudget, type CheckRequest, frameStep, SessionWatch, type StepOutput, sameOutput, type WatchedStage } from "./session-watch.ts";
import { type ReplayResult, StageReplay } from "./stage-replay.ts";

/** A replay that has produced nothing conclusive by then is abandoned (no verdict). */
export const CHECK_TIMEOUT_MS = 60_000;
/** Bytes of inputs kept for checks at any time, per coordinator (a Durable Object has 128 MB in all). */
export const CHECK_BUFFER_BYTES = 32 * 2 ** 20;
/** Verifiers tried for one check when one gives no answer. */
const VERIFIER_TRIES = 2;
/**
 * How long a check waits for a free verifier, and a mismatch for a free arbiter, before the
 * check is skipped or called a dispute: under load every holder may be at its session limit,
 * and neither a skipped check nor an honest node's reputation should depend on that.
 */
export const ARBITER_WAIT_MS = 15_000;
export const VERIFIER_WAIT_MS = 15_000;
/** Verifiers and arbiters are drawn at random among this many most reputable candidates. */
const TOP_CANDIDATES = 3;

/** A node able to re-execute a watched session now. */
export interface Candidate {
  nodeId: string;
  ws: WebSocket;
}

export interface VerificationHost {
  /** Nodes other than `avoid` that hold the watched file and layers, allow the task and have a free slot (any slot state with `busyToo`). */
  candidates(stage: WatchedStage, avoid: ReadonlySet<string>, busyToo?: boolean): Candidate[];
  /** A session id for a replay; its messages are routed to `onFrame`/`onSampled`/`onFailed`. */
  newSession(): number;
  /** The replay occupies a slot of its node until `endReplay`. */
  beginReplay(nodeId: string): void;
  endReplay(nodeId: string): void;
  /** Queue entries for the log. */
  log(entries: LogEntry[]): Promise<void>;
  /** The node failed a check: take it off the network (its open requests fail over). */
  exclude(nodeId: string, reason: string): Promise<void>;
}

/** How a check ended, for tests and logs. */
export type CheckOutcome = { verdict: CheckVerdict | "inconclusive" | "no_verifier"; facts?: CheckFacts };

export class Verification {
  private readonly budget = new ByteBudget(CHECK_BUFFER_BYTES);
  private readonly replays = new Map<number, StageReplay>();
  /** Resolves each time a check concludes (for callers that wait on verdicts). */
  private readonly outcomes: ((o: CheckOutcome) => void)[] = [];

  constructor(
    private readonly host: VerificationHost,
    readonly stats: NodeStats,
    private readonly enabled: boolean,
    private readonly uniform: () => number = secureUniform,
  ) {}

  /** A stage session just opened: its watch, which samples its steps at the node's rate. */
  watch(stage: WatchedStage): SessionWatch | null {
    if (!this.enabled) return null;
    return new SessionWatch(
      stage,
      checkRateOf(this.stats.get(stage.nodeId)),
      this.uniform,
      this.budget,
      (request) => {
        this.check(request)
          .then((o) => this.concluded(o))
          .catch((err) => console.error("verification: a check failed", err))
          .finally(() => request.watch.checkDone());
      },
      (w) => {
        this.stats.get(w.stage.nodeId).checksSkipped++;
      },
    );
  }

  /** One more step served by a node (its `steps` count). */
  stepServed(nodeId: string): void {
    this.stats.get(nodeId).steps++;
  }

  /** Whether a session id belongs to a replay (its messages come here, not to a run). */
  owns(session: number): boolean {
    return this.replays.has(session);
  }

  onFrame(nodeId: string, session: number, bytes: ArrayBuffer): void {
    const r = this.replays.get(session);
    if (r?.nodeId === nodeId) r.onOutput(frameStep(bytes));
  }

  onSampled(nodeId: string, m: SampledMessage): void {
    const r = this.replays.get(m.session);
    if (r?.nodeId === nodeId) r.onOutput({ kind: "sampled", at: m.index, tokenId: m.tokenId, outputHash: m.outputHash });
  }

  onFailed(nodeId: string, session: number, why: string): void {
    const r = this.replays.get(session);
    if (r?.nodeId === nodeId) r.fail(`the node failed the session: ${why}`);
  }

  /** A node's socket is gone: its replays end without a verdict. */
  nodeLost(nodeId: string): void {
    for (const r of this.replays.values()) if (r.nodeId === nodeId) r.fail("the node disconnected");
  }

  /** Resolves with the next check outcome (tests and diagnostics). */
  nextOutcome(): Promise<CheckOutcome> {
    return new Promise((resolve) => this.outcomes.push(resolve));
  }

  private concluded(o: CheckOutcome): void {
    for (const resolve of this.outcomes.splice(0)) resolve(o);
  }

  /** Re-execute outputs 0…through, arbitrate if needed, and record the verdict. */
  private async check({ watch, through, verifiedBefore }: CheckRequest): Promise<CheckOutcome> {
    const node = watch.stage.nodeId;
    const newSteps = through + 1 - verifiedBefore;
    let verifier: Candidate | null = null;
    let first: ReplayResult | null = null;
    const tried = new Set([node]);
    for (let i = 0; i < VERIFIER_TRIES; i++) {
      const candidate = await this.pickWithin(watch.stage, tried, VERIFIER_WAIT_MS);
      if (!candidate) break;
      tried.add(candidate.nodeId);
      verifier = candidate;
      first = await this.replay(candidate, watch, through, true);
      if (first.kind === "done") break;
    }
    if (!verifier || !first) {
      this.stats.get(node).checksSkipped++;
      return { verdict: "no_verifier" };
    }
    if (first.kind === "inconclusive") return { verdict: "inconclusive" };
    const j = await firstDifference(watch.outputs, first.outputs);
    if (j === null) {
      this.credit(this.stats.get(node), newSteps, true);
      this.credit(this.stats.get(verifier.nodeId), through + 1, false);
      return this.record(watch, through, { verifier: verifier.nodeId, arbiter: null, verdict: "agree", mismatchStep: null });
    }
    const arbiter = await this.pickWithin(watch.stage, new Set([node, verifier.nodeId]), ARBITER_WAIT_MS);
    const second = arbiter ? await this.replay(arbiter, watch, j, false) : null;
    const base = { verifier: verifier.nodeId, arbiter: arbiter?.nodeId ?? null, mismatchStep: j };
    if (!second || second.kind === "inconclusive") {
      this.dispute([node, verifier.nodeId]);
      return this.record(watch, through, { ...base, verdict: "dispute" });
    }
    const odd = await oddOneOut(watch.outputs, first.outputs, second.outputs, j);
    const ids = [node, verifier.nodeId, arbiter!.nodeId] as const;
    if (odd === null) {
      this.dispute([...ids]);
      return this.record(watch, through, { ...base, verdict: "dispute" });
    }
    const verdict: CheckVerdict = (["node_failed", "verifier_failed", "arbiter_failed"] as const)[odd];
    if (odd === 2) {
      // The arbiter differed from two that agreed up to some earlier step; they still differ at j.
      this.dispute([node, verifier.nodeId]);
    } else {
      // The two that agreed through step j earn the steps.
      ids.forEach((id, i) => {
        if (i !== odd) this.credit(this.stats.get(id), id === node ? Math.max(0, j + 1 - verifiedBefore) : j + 1, id === node);
      });
    }
    return this.record(watch, through, { ...base, verdict }, ids[odd]);
  }

  /** Log the check (and an exclusion), store the standings it changed, and exclude the loser. */
  private async record(
    watch: SessionWatch,
    through: number,
    outcome: Pick<CheckFacts, "verifier" | "arbiter" | "verdict" | "mismatchStep">,
    failed?: string,
  ): Promise<CheckOutcome> {
    const { open, sha256, nodeId } = watch.stage;
    const now = Date.now();
    const facts: CheckFacts = {
      requestId: open.requestId,
      session: open.session,
      modelSha256: sha256,
      layers: [open.layerBegin, open.layerEnd],
      stage: open.stage,
      node: nodeId,
      steps: through + 1,
      at: now,
      ...outcome,
    };
    const check = checkEntry(facts);
    const entries = [check];
    const touched = [nodeId, outcome.verifier, ...(outcome.arbiter ? [outcome.arbiter] : [])].map((id) => this.stats.get(id));
    let reason = "";
    const loser = failed ? this.stats.get(failed) : null;
    // Checks concluding together may each find the same node wrong: one exclusion, every failure counted.
    const excludeNow = loser !== null && loser.excludedAt === null;
    if (loser) {
      loser.failedChecks++;
      touched.push(loser);
    }
    if (loser && excludeNow) {
      reason = `its output of step ${outcome.mismatchStep} for ${open.requestId} (layers ${open.layerBegin}-${open.layerEnd - 1}) differed from two other nodes' that agreed`;
      loser.excludedAt = now;
      loser.excludedReason = reason;
      entries.push(exclusionEntry(loser.nodeId, reason, loser.failedChecks, check.key, now));
    }
    try {
      await this.stats.save(touched, now);
    } catch (err) {
      console.error("verification: could not store standings", err);
    }
    try {
      await this.host.log(entries);
    } catch (err) {
      console.error("verification: could not queue a check entry", err);
    }
    if (loser && excludeNow) await this.host.exclude(loser.nodeId, reason);
    return { verdict: outcome.verdict, facts };
  }

  /** Run one replay to its end; the node's slot is held meanwhile. */
  private async replay(node: Candidate, watch: SessionWatch, through: number, stopAtMismatch: boolean) {
    const session = this.host.newSession();
    const replay = new StageReplay(node.nodeId, node.ws, session, watch, through, stopAtMismatch, CHECK_TIMEOUT_MS);
    this.replays.set(session, replay);
    this.host.beginReplay(node.nodeId);
    try {
      if (!replay.start()) replay.fail("the node's connection failed");
      return await replay.result;
    } finally {
      replay.close();
      this.replays.delete(session);
      this.host.endReplay(node.nodeId);
    }
  }

  /** pick(), retried until `ms` have passed while every candidate is busy (or none is connected). */
  private async pickWithin(stage: WatchedStage, avoid: ReadonlySet<string>, ms: number): Promise<Candidate | null> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.pick(stage, avoid);
      if (found || Date.now() >= deadline) return found;
      // Nobody holds these layers at all (busy or not): nothing to wait for.
      if (this.host.candidates(stage, avoid, true).every((c) => this.stats.get(c.nodeId).excludedAt !== null)) return null;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /**
   * One of the most reputable candidates, at random (so no single node can stall every check of
   * its layers by never answering), or null.
   */
  private pick(stage: WatchedStage, avoid: ReadonlySet<string>): Candidate | null {
    const ranked = this.host
      .candidates(stage, avoid)
      .filter((c) => this.stats.get(c.nodeId).excludedAt === null)
      .map((c) => ({ c, rank: reputationOf(this.stats.get(c.nodeId)) }))
      .sort((a, b) => b.rank - a.rank);
    const top = ranked.slice(0, TOP_CANDIDATES);
    return top[Math.min(top.length - 1, Math.floor(this.uniform() * top.length))]?.c ?? null;
  }

  /** Steps recomputed by another node and found equal: credits, and (for the checked node's own steps) verified steps. */
  private credit(r: NodeRecord, steps: number, ownSteps: boolean): void {
    r.credits += steps;
    if (!ownSteps) return;
    r.verifiedSteps += steps;
    // Passing a check as the checked node clears an open dispute.
    r.disputeOpen = false;
  }

  private dispute(nodeIds: string[]): void {
    for (const id of nodeIds) {
      const r = this.stats.get(id);
      r.disputes++;
      r.disputeOpen = true;
    }
  }
}

/** The first step where two output lists differ (within the shorter), or null when none does. */
export async function firstDifference(a: readonly StepOutput[], b: readonly StepOutput[]): Promise<number | null> {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (!(await sameOutput(a[i]!, b[i]!))) return i;
  return null;
}

/**
 * At the first step ≤ `through` where the three differ, which one is alone against two that
 * agree (0, 1 or 2); null when all three differ there or one list ended early.
 */
export async function oddOneOut(
  a: readonly StepOutput[],
  b: readonly StepOutput[],
  c: readonly StepOutput[],
  through: number,
): Promise<0 | 1 | 2 | null> {
  for (let i = 0; i <= through; i++) {
    const [x, y, z] = [a[i], b[i], c[i]];
    if (!x || !y || !z) return null;
    const [xy, xz, yz] = await Promise.all([sameOutput(x, y), sameOutput(x, z), sameOutput(y, z)]);
    if (xy && xz) continue;
    if (xy) return 2;
    if (xz) return 1;
    if (yz) return 0;
    return null;
  }
  return null;
}
