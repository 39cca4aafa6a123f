/**
 * One client request's run through a pipeline of agents: tokenize on a first stage, open every
 * stage of a chain, relay activation frames, collect the sampled tokens, fail over to a new
 * chain by replaying the token history when a stage is lost, and write the ledger entry before
 * the client's final event (docs/pipeline.md). The Swarm routes socket events here; the run
 * reaches the rest of the Swarm only through its RunHost.
 *
 * Invariants:
 * - The token history (`prompt`, `generated`) is the truth: ledger hashes and replays use it.
 * - Each chain attempt has its own session id; anything tagged with an older id never reaches
 *   this run, so a token is never emitted twice.
 * - The event stream ends with exactly one `done` or `error` (or the client cancelled it).
 * - Stage timing is held by the attempt's stages, so a relay never searches for its request.
 */

import type { TaskType } from "../../../shared/consent/contract.ts";
import type { RequestErrorCode } from "../../../shared/protocol/errors.ts";
import type { FrameHeader } from "../../../shared/protocol/frame.ts";
import type {
  ChatMessage,
  CoordinatorMessage,
  FailedMessage,
  OpenMessage,
  SampledMessage,
  SamplingParams,
} from "../../../shared/protocol/messages.ts";
import { tokenBudget } from "../../../shared/protocol/token-budget.ts";
import type { ChatJob } from "../openai/chat-request.ts";
import { encodeEvent, type JobEvent } from "./job-events.ts";
import type { PlannedStage } from "./planner.ts";
import type { SessionWatch, WatchedStage } from "./verification/session-watch.ts";

/** A chain attempt with no output from any stage for this long is abandoned for another chain. */
export const STALL_TIMEOUT_MS = 10_000;
/** Failovers per request before giving up. */
export const MAX_FAILOVERS = 3;

/** A stage of the current attempt, with its socket and timing. */
export interface StageRef extends PlannedStage {
  ws: WebSocket;
  /** The model file hash this node announced (its receipt must name the same). */
  sha256: string;
  /** The node's agent version (a re-execution check uses a verifier of the same version). */
  agentVersion: string;
  /** When this stage last got work, and last produced output (for timing and stall blame). */
  lastInputAt: number;
  lastOutputAt: number;
  /** Copies kept for a re-execution check of this stage's session, or null (docs/verification.md). */
  watch: SessionWatch | null;
}

export interface Attempt {
  /** Numeric session id of this attempt; messages of older attempts carry other ids. */
  session: number;
  chain: StageRef[];
  lastProgressAt: number;
}

/** A chain attempt as the ledger records it: its stages and the receipts they sent when closed. */
export interface AttemptRecord {
  session: number;
  stages: { nodeId: string; layerBegin: number; layerEnd: number; sha256: string }[];
  /** Receipts by stage index, as received (checked when the entry is built). */
  receipts: Map<number, unknown>;
  /** Whether its stages were opened (an attempt lost while tokenizing never was: no receipts). */
  opened: boolean;
  closedAt: number | null;
}

/** How long after closing a chain its stages' receipts are waited for. */
export const RECEIPT_WAIT_MS = 2_000;

/** What a run needs from the Swarm. */
export interface RunHost {
  /** Plan a chain for the model avoiding `excluded`; null when no chain has a free slot. */
  plan(
    run: PipelineRun,
    excluded: ReadonlySet<string>,
  ): { nodeId: string; ws: WebSocket; layerBegin: number; layerEnd: number; sha256: string; agentVersion: string }[] | null;
  /** Whether any chain could serve the model at all (ignoring capacity). */
  covered(run: PipelineRun, excluded: ReadonlySet<string>): boolean;
  /** A new session id for an attempt of this run; routes its messages here until ended. */
  beginSession(run: PipelineRun, chain: readonly StageRef[]): number;
  /** The attempt is closed: no more work for it; only its receipts are still routed here. */
  endSession(session: number, chain: readonly StageRef[]): void;
  /** Resolves when some request finishes or after `ms`, whichever is first. */
  capacityFreed(ms: number): Promise<void>;
  recordStageTime(nodeId: string, ms: number): void;
  /** A stage session was opened: whether (and how) it is checked. */
  watch(stage: WatchedStage): SessionWatch | null;
  /** A node produced one step's output. */
  stepServed(nodeId: string): void;
  /** The run generated a token (the dashboard's tokens/s). */
  tokenGenerated(): void;
  /** Durably record the completed request; throws when it could not be recorded. */
  recordCompletion(run: PipelineRun, finishReason: "stop" | "length"): Promise<void>;
  /** The run has ended (done, error or cancelled): forget it. */
  finished(run: PipelineRun): void;
}

/** A request-level failure with the API code the client should see. */
export class RequestError extends Error {
  constructor(
    readonly code: RequestErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The tokenizing stage was lost: try again on a new chain. */
class RetryTokenize extends Error {}

/** How long a request waits for a free slot when every covering agent is at capacity. */
export const QUEUE_TIMEOUT_MS = 30_000;

export class PipelineRun {
  readonly startedAt = Date.now();
  readonly model: string;
  readonly sha256: string;
  readonly nLayers: number;
  readonly messages: ChatMessage[];
  /** A completion's prompt text (a chat has messages instead). */
  readonly promptText: string | undefined;
  /** What consent contracts judge: the kind of work and the requester's contribution score. */
  readonly task: { task: TaskType; contributionScore: number };
  /** Sampling parameters with the seed fixed, so replays make the same choices. */
  readonly params: SamplingParams & { seed: number };
  /** Prompt token ids (from the first stage's `tokenized`), then each sampled id. */
  prompt: number[] | null = null;
  readonly generated: number[] = [];
  /** Every chain this run used, in order (failovers included), with their receipts, for the ledger. */
  readonly attempts: AttemptRecord[] = [];
  attempt: Attempt | null = null;
  /** Waiting for a free slot (every covering agent at capacity). */
  queued = false;
  readonly events: ReadableStream<Uint8Array>;
  done = false;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Tokens the request may generate (max_tokens, capped by the context). */
  private budget = 0;
  private failovers = 0;
  /** Agents that failed this request; never planned for it again. */
  private readonly excluded = new Set<string>();
  /** Set while tokenizing: settles when the prompt's ids arrive or the tokenizing stage is lost. */
  private tokenized: { resolve: () => void; reject: (err: Error) => void } | null = null;
  /** Wakes complete() when a receipt arrives. */
  private receiptArrived: (() => void) | null = null;

  constructor(
    private readonly host: RunHost,
    readonly requestId: string,
    job: ChatJob,
    /** The model file the run is pinned to (every chain, failovers included, uses this file). */
    file: { sha256: string; nLayers: number },
    /** The model's context (the smallest any stage offers). */
    private readonly nCtx: number,
  ) {
    this.model = job.model;
    this.sha256 = file.sha256;
    this.nLayers = file.nLayers;
    this.messages = job.messages;
    this.promptText = job.prompt;
    this.task = { task: job.task, contributionScore: job.contributionScore };
    this.params = { ...job.params, seed: job.params.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! };
    this.events = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.controller = c;
      },
      // The client went away: stop the chain; nothing is recorded in the ledger.
      cancel: () => this.finish(),
    });
  }

  /** Tokenize the prompt (failing over while tokenizing) and start the chain; throws RequestError. */
  async open(): Promise<void> {
    try {
      await this.tokenize();
    } catch (err) {
      this.finish();
      throw err instanceof RequestError ? err : new RequestError("agent_error", String(err));
    }
    this.startAttempt();
  }

  // ── events routed here by the Swarm ───────────────────────────────────────────────────────

  onTokenized(nodeId: string, tokens: number[]): void {
    const attempt = this.attempt;
    if (!this.tokenized || !attempt || attempt.chain[0]!.nodeId !== nodeId) return;
    this.prompt = tokens;
    attempt.lastProgressAt = Date.now();
    this.tokenized.resolve();
  }

  async onSampled(nodeId: string, m: SampledMessage): Promise<void> {
    const attempt = this.attempt;
    const last = attempt?.chain[attempt.chain.length - 1];
    if (!attempt || !last || last.nodeId !== nodeId) return;
    this.stageOutput(attempt, last);
    if (m.index !== this.generated.length) {
      return this.failover(last.nodeId, `the last stage sent token ${m.index}, expected ${this.generated.length}`);
    }
    last.watch?.sampledOutput(m.index, m.tokenId, m.outputHash);
    if (m.tokenId !== null) {
      this.generated.push(m.tokenId);
      this.host.tokenGenerated();
    }
    if (m.text.length > 0 || m.logprobs) this.emit({ type: "token", text: m.text, ...(m.logprobs ? { logprobs: m.logprobs } : {}) });
    if (m.finish) return this.complete(m.finish);
    if (m.tokenId === null) return this.failover(last.nodeId, "the last stage ended without a finish reason");
    this.feed(attempt, this.prompt!.length + this.generated.length - 1, [m.tokenId]);
  }

  /** A stage's receipt for one of this run's attempts (sent when the attempt was closed). */
  onReceipt(nodeId: string, session: number, receipt: unknown): void {
    const attempt = this.attempts.find((a) => a.session === session);
    if (!attempt) return;
    attempt.stages.forEach((s, i) => {
      if (s.nodeId === nodeId && !attempt.receipts.has(i)) attempt.receipts.set(i, receipt);
    });
    this.receiptArrived?.();
  }

  async onFailed(nodeId: string, m: FailedMessage): Promise<void> {
    if (!this.attempt?.chain.some((s) => s.nodeId === nodeId)) return;
    if (m.code === "bad_prompt") return this.fail(new RequestError("bad_prompt", m.message));
    return this.failover(nodeId, `agent failed (${m.code}): ${m.message}`);
  }

  /** Forward a stage's activation frame, unchanged, to the next stage of the chain. */
  async relay(nodeId: string, header: FrameHeader, data: ArrayBuffer): Promise<void> {
    const attempt = this.attempt;
    const from = attempt?.chain[header.fromStage];
    if (!attempt || !from || from.nodeId !== nodeId) return; // a stale attempt's frame
    const next = attempt.chain[header.fromStage + 1];
    if (!next) return this.failover(nodeId, "the last stage sent a frame");
    this.stageOutput(attempt, from);
    from.watch?.frameOutput(data);
    next.watch?.input({ kind: "frame", bytes: data });
    if (!this.send(next, data, true)) return this.failover(next.nodeId, "the next stage's connection failed");
  }

  /** A socket of this run's chain is gone. */
  async stageLost(nodeId: string, why: string): Promise<void> {
    if (this.attempt?.chain.some((s) => s.nodeId === nodeId)) await this.failover(nodeId, why);
  }

  /** Abandon a chain that has made no progress for STALL_TIMEOUT_MS. */
  async checkStall(now: number): Promise<void> {
    const attempt = this.attempt;
    if (!attempt || now - attempt.lastProgressAt <= STALL_TIMEOUT_MS) return;
    // Blame the stage that has had work the longest without answering.
    const waiting = attempt.chain.filter((s) => s.lastInputAt > s.lastOutputAt).sort((a, b) => a.lastInputAt - b.lastInputAt);
    await this.failover((waiting[0] ?? attempt.chain[0]!).nodeId, "a pipeline stage stopped making progress");
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  /** Ask the first stage of a fresh chain for the prompt's token ids; fail over while tokenizing. */
  private async tokenize(): Promise<void> {
    for (;;) {
      const attempt = this.newAttempt() ?? (await this.waitForCapacity());
      const wait = new Promise<void>((resolve, reject) => {
        this.tokenized = { resolve, reject };
      });
      this.send(attempt.chain[0]!, {
        type: "tokenize",
        session: attempt.session,
        model: this.model,
        ...(this.promptText !== undefined ? { prompt: this.promptText } : { messages: this.messages }),
        ...this.task,
      });
      try {
        await wait;
        break;
      } catch (err) {
        if (!(err instanceof RetryTokenize)) throw err;
      } finally {
        this.tokenized = null;
      }
    }
    const answer = tokenBudget(this.prompt!.length, this.params.maxTokens, this.nCtx);
    if (!answer.ok) throw new RequestError(answer.code, answer.message);
    this.budget = answer.budget;
  }

  /**
   * No chain has a free slot: wait until a request finishes and a chain can be planned, or
   * give up with 503 when the model is no longer covered or the wait is too long.
   */
  private async waitForCapacity(): Promise<Attempt> {
    this.queued = true;
    try {
      return await this.queueForCapacity();
    } finally {
      this.queued = false;
    }
  }

  private async queueForCapacity(): Promise<Attempt> {
    const deadline = Date.now() + QUEUE_TIMEOUT_MS;
    for (;;) {
      if (!this.host.covered(this, this.excluded))
        throw new RequestError("no_route", `no chain of agents can serve '${this.model}' right now`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new RequestError("agents_busy", `every agent serving '${this.model}' is at capacity; retry shortly`);
      await this.host.capacityFreed(Math.min(remaining, 1_000));
      if (this.done) throw new RequestError("no_route", "the request was cancelled while queued");
      const attempt = this.newAttempt();
      if (attempt) return attempt;
    }
  }

  /** Open every stage of the current attempt and feed it the history (prompt + generated). */
  private startAttempt(): void {
    const attempt = this.attempt;
    if (!attempt || this.done) return;
    const record = this.attempts.find((a) => a.session === attempt.session);
    if (record) record.opened = true;
    attempt.chain.forEach((stage, i) => {
      const open: OpenMessage = {
        type: "open",
        session: attempt.session,
        model: this.model,
        stage: i,
        stages: attempt.chain.length,
        layerBegin: stage.layerBegin,
        layerEnd: stage.layerEnd,
        requestId: this.requestId,
        ...this.task,
        nCtx: this.prompt!.length + this.budget,
        params: { ...this.params, maxTokens: this.budget },
        history: [...this.generated],
      };
      this.send(stage, open);
      stage.watch = this.host.watch({ nodeId: stage.nodeId, sha256: stage.sha256, agentVersion: stage.agentVersion, open });
    });
    this.feed(attempt, 0, [...this.prompt!, ...this.generated]);
  }

  /** Ledger first, then the client's final event: a completion is only reported once recorded. */
  private async complete(finishReason: "stop" | "length"): Promise<void> {
    this.closeAttempt();
    await this.receiptsIn();
    if (this.done) return; // the client went away meanwhile: nothing is logged
    try {
      await this.host.recordCompletion(this, finishReason);
    } catch (err) {
      console.error(err);
      return this.fail(new RequestError("ledger_write_failed", "the completion could not be recorded"));
    }
    this.emit({ type: "done", finishReason, promptTokens: this.prompt!.length, completionTokens: this.generated.length });
    this.finish();
  }

  /** Wait until every closed attempt's stages have sent receipts, or until each attempt's wait is over. */
  private async receiptsIn(): Promise<void> {
    for (;;) {
      const now = Date.now();
      const waiting = this.attempts.filter(
        (a) => a.opened && a.closedAt !== null && a.receipts.size < a.stages.length && now < a.closedAt + RECEIPT_WAIT_MS,
      );
      if (waiting.length === 0) return;
      const until = Math.min(...waiting.map((a) => a.closedAt! + RECEIPT_WAIT_MS));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, until - now);
        this.receiptArrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.receiptArrived = null;
    }
  }

  /** Abandon the current attempt (blaming `nodeId`) and continue on a new chain, replaying. */
  private async failover(nodeId: string, why: string): Promise<void> {
    if (this.done) return;
    this.excluded.add(nodeId);
    this.closeAttempt();
    if (++this.failovers > MAX_FAILOVERS)
      return this.fail(new RequestError("no_route", `gave up after ${MAX_FAILOVERS} failovers; last: ${why}`));
    // Still tokenizing: let tokenize() retry on a new chain.
    if (this.tokenized) return this.tokenized.reject(new RetryTokenize(why));
    if (!this.newAttempt()) return this.fail(new RequestError("no_route", `${why}, and no other agents can take over`));
    this.startAttempt();
  }

  private fail(err: RequestError): void {
    if (this.tokenized) {
      this.tokenized.reject(err);
      return;
    }
    this.emit({ type: "error", code: err.code, message: err.message });
    this.finish();
  }

  /** Close the attempt and the event stream; the host forgets the run. */
  finish(): void {
    if (this.done) return;
    this.done = true;
    this.closeAttempt();
    this.host.finished(this);
    try {
      this.controller.close();
    } catch {
      // already closed or cancelled
    }
  }

  /** Plan a chain avoiding the excluded agents; it becomes the current attempt. */
  private newAttempt(): Attempt | null {
    const plan = this.host.plan(this, this.excluded);
    if (!plan) return null;
    const chain: StageRef[] = plan.map((p) => ({ ...p, lastInputAt: 0, lastOutputAt: 0, watch: null }));
    const attempt: Attempt = { session: this.host.beginSession(this, chain), chain, lastProgressAt: Date.now() };
    this.attempt = attempt;
    this.attempts.push({
      session: attempt.session,
      stages: chain.map(({ nodeId, layerBegin, layerEnd, sha256 }) => ({ nodeId, layerBegin, layerEnd, sha256 })),
      receipts: new Map(),
      opened: false,
      closedAt: null,
    });
    return attempt;
  }

  private closeAttempt(): void {
    const attempt = this.attempt;
    if (!attempt) return;
    this.attempt = null;
    const record = this.attempts.find((a) => a.session === attempt.session);
    if (record) record.closedAt = Date.now();
    this.host.endSession(attempt.session, attempt.chain);
    for (const stage of attempt.chain) {
      this.send(stage, { type: "close", session: attempt.session });
      // The session is over: its steps sampled since the first check are checked now.
      stage.watch?.end();
    }
  }

  /** Feed token ids to the first stage (kept for its check, if it is checked). */
  private feed(attempt: Attempt, pos0: number, tokens: number[]): void {
    const first = attempt.chain[0]!;
    first.watch?.input({ kind: "feed", pos0, tokens });
    this.send(first, { type: "feed", session: attempt.session, pos0, tokens }, true);
  }

  /** Send to a stage; `work` marks input it must answer (for timing and stall blame). */
  private send(stage: StageRef, message: CoordinatorMessage | ArrayBuffer, work = false): boolean {
    if (work) stage.lastInputAt = Date.now();
    try {
      stage.ws.send(message instanceof ArrayBuffer ? message : JSON.stringify(message));
      return true;
    } catch {
      return false;
    }
  }

  /** A stage answered: progress, and one more sample of its stage time. */
  private stageOutput(attempt: Attempt, stage: StageRef): void {
    const now = Date.now();
    attempt.lastProgressAt = now;
    if (stage.lastInputAt > stage.lastOutputAt) this.host.recordStageTime(stage.nodeId, now - stage.lastInputAt);
    stage.lastOutputAt = now;
    this.host.stepServed(stage.nodeId);
  }

  private emit(event: JobEvent): void {
    try {
      this.controller.enqueue(encodeEvent(event));
    } catch {
      // the stream was cancelled by the client
    }
  }
}
