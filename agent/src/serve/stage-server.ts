/**
 * Serves this agent's layer range as one stage of pipelines planned by the coordinator
 * (docs/pipeline.md). Per session: a KV cache for its layers; the first stage also tokenizes
 * and embeds, the last also applies the head and chooses tokens. Work for one session runs in
 * arrival order; steps of different sessions that arrive together run as one batched forward
 * call per shard (ShardBatcher), so concurrent requests share each weight read.
 */

import { createHash, type Hash } from "node:crypto";
import { type ConsentContract, consentRefusal, DEFAULT_CONTRACT, type TaskType } from "../../../shared/consent/contract.ts";
import { HashChain, type ReceiptBody, signReceipt } from "../../../shared/ledger/receipt.ts";
import type { StageFailureCode } from "../../../shared/protocol/errors.ts";
import { decodeFrame, encodeFrame, FLAG_FINAL } from "../../../shared/protocol/frame.ts";
import type { AgentMessage, FeedMessage, OpenMessage, TokenizeMessage } from "../../../shared/protocol/messages.ts";
import { TokenizerError } from "../../../shared/tokenizer/index.ts";
import { EnergyMeter } from "../energy/energy-meter.ts";
import { KernelError, type NativeShard } from "../kernels/engine.ts";
import { BandwidthLimiter } from "./bandwidth.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { PREFILL_CHUNK } from "./local-generation.ts";
import { ShardBatcher } from "./shard-batcher.ts";
import { TokenChooser } from "./token-chooser.ts";

export interface StageOutput {
  send(message: AgentMessage): boolean;
  sendFrame(bytes: Uint8Array): boolean;
  /** A session closed and the served totals grew (the status file is refreshed soon after). */
  servedChanged?(): void;
}

interface StageSession {
  id: number;
  requestId: string;
  layerBegin: number;
  layerEnd: number;
  stage: number;
  first: boolean;
  last: boolean;
  /** The shard of this session's layer range, its batcher, and the sequence slot in it. */
  shard: ShardRef;
  seq: number;
  chooser: TokenChooser | null;
  /** Last stage: the hash of what it computed since its previous choice (the step's `outputHash`). */
  stepHash: Hash | null;
  /** Work for this session, chained so it runs in arrival order. */
  queue: Promise<void>;
  /** Last time the coordinator sent anything for this session (for the idle timeout). */
  lastActivity: number;
  closed: boolean;
  /** What the receipt will say (docs/ledger.md, "Receipts"). */
  work: ReceiptWork;
}

interface ReceiptWork {
  tokens: number;
  input: HashChain;
  output: HashChain;
  cpuMs: number;
  energyMj: number;
}

/** Who this agent is, for signing receipts. */
export interface StageIdentity {
  nodeId: string;
  secretKey: Uint8Array;
}

interface ShardRef {
  shard: NativeShard;
  batcher: ShardBatcher;
}

/**
 * A session the coordinator has not touched for this long is freed: its `close` was lost or the
 * request was abandoned without one. Longer than any pause in a live request.
 */
export const SESSION_IDLE_MS = 120_000;

/** Rows per batched forward call: a prefill chunk of each of several sessions. */
const MAX_BATCH_ROWS = 4 * PREFILL_CHUNK;

export class StageServer {
  private readonly sessions = new Map<number, StageSession>();
  /** One shard per layer range served (usually just the held range), created on first use. */
  private readonly shards = new Map<string, ShardRef>();
  private draining = false;
  private readonly bandwidth: BandwidthLimiter;
  /** How this agent measures energy (RAPL or an estimate), shared by its shards. */
  private readonly meter = EnergyMeter.detect();

  constructor(
    private readonly model: LoadedModel,
    private readonly held: { layerBegin: number; layerEnd: number },
    private readonly maxSessions: number,
    private readonly out: StageOutput,
    private readonly log: (line: string) => void,
    private readonly identity: StageIdentity,
    /** The owner's consent contract in force: checked for every new session (defence in depth). */
    private consent: ConsentContract = DEFAULT_CONTRACT,
  ) {
    this.bandwidth = new BandwidthLimiter(consent.max_bandwidth_mbps);
  }

  /** The owner changed the contract: new sessions follow it; with "stop open work" open ones end now. */
  setConsent(consent: ConsentContract): void {
    this.consent = consent;
    this.bandwidth.setRate(consent.max_bandwidth_mbps);
    if (consent.revoked && consent.stop_open_work) {
      for (const id of [...this.sessions.keys()]) {
        this.fail(id, new StageError("consent_refused", "the owner revoked consent and stopped open work"));
        this.close(id);
      }
    }
  }

  /** Refuse work the contract does not allow now, naming why. */
  private checkConsent(m: { task: TaskType; contributionScore: number }): void {
    const refusal = consentRefusal(this.consent, { task: m.task, contributionScore: m.contributionScore, at: new Date() });
    if (refusal)
      throw new StageError("consent_refused", `the owner's consent contract does not allow this request (${refusal.replace("_", " ")})`);
  }

  /** Per-request lines in this agent's log, only when the owner allows logging. */
  private logSession(line: string): void {
    if (this.consent.allow_logging) this.log(line);
  }

  /** Totals since the agent started, over closed sessions (for the status file). */
  readonly served = { sessions: 0, tokens: 0, energyMj: 0, cpuMs: 0 };

  get energyMethod(): string {
    return this.meter.method;
  }

  get activeSessions(): number {
    return this.sessions.size;
  }

  /** Refuse new sessions from now on; open ones continue. */
  drain(): void {
    this.draining = true;
  }

  /** Tokenize a chat or a completion prompt; long prompts yield to the event loop as they go. */
  async tokenize(m: TokenizeMessage): Promise<void> {
    try {
      if (m.model !== this.model.id) throw new StageError("model_not_loaded", `this agent serves ${this.model.id}`);
      this.checkConsent(m);
      if ((m.messages === undefined) === (m.prompt === undefined))
        throw new StageError("bad_params", "tokenize takes either messages or a prompt");
      const tokens = m.messages ? await this.model.promptTokens(m.messages) : await this.model.completionTokens(m.prompt!);
      this.out.send({ type: "tokenized", session: m.session, tokens });
    } catch (err) {
      this.fail(m.session, err);
    }
  }

  open(m: OpenMessage): void {
    try {
      if (this.draining) throw new StageError("draining", "the agent is shutting down");
      if (m.model !== this.model.id) throw new StageError("model_not_loaded", `this agent serves ${this.model.id}`);
      this.checkConsent(m);
      if (m.layerBegin < this.held.layerBegin || m.layerEnd > this.held.layerEnd || m.layerBegin >= m.layerEnd) {
        throw new StageError(
          "bad_range",
          `layers [${m.layerBegin}, ${m.layerEnd}) are not within [${this.held.layerBegin}, ${this.held.layerEnd})`,
        );
      }
      if (this.sessions.has(m.session)) throw new StageError("bad_session", `session ${m.session} is already open`);
      if (this.sessions.size >= this.maxSessions) throw new StageError("busy", "the agent is at its session limit");
      const last = m.stage === m.stages - 1;
      if (last && m.layerEnd !== this.model.native.info.nLayer)
        throw new StageError("bad_range", "the last stage must end at the last layer");
      if (m.params.seed === undefined) throw new StageError("bad_params", "the coordinator must fix the seed");
      const shard = this.shardFor(m.layerBegin, m.layerEnd);
      const seq = shard.shard.openSequence(m.nCtx);
      this.logSession(
        `session ${m.session}: stage ${m.stage + 1}/${m.stages}, layers ${m.layerBegin}-${m.layerEnd - 1}, ${m.history.length} tokens to replay`,
      );
      this.sessions.set(m.session, {
        id: m.session,
        requestId: m.requestId,
        layerBegin: m.layerBegin,
        layerEnd: m.layerEnd,
        stage: m.stage,
        first: m.stage === 0,
        last,
        shard,
        seq,
        chooser: last ? new TokenChooser(this.model, { ...m.params, seed: m.params.seed }, m.history) : null,
        stepHash: last ? createHash("sha256") : null,
        queue: Promise.resolve(),
        lastActivity: Date.now(),
        closed: false,
        work: { tokens: 0, input: new HashChain(), output: new HashChain(), cpuMs: 0, energyMj: 0 },
      });
    } catch (err) {
      this.fail(m.session, err);
    }
  }

  feed(m: FeedMessage): void {
    this.enqueue(m.session, async (s) => {
      if (!s.first) throw new StageError("bad_stage", "only the first stage takes tokens");
      s.work.input.addTokens(m.pos0, m.tokens);
      for (let i = 0; i < m.tokens.length; i += PREFILL_CHUNK) {
        const chunk = m.tokens.slice(i, i + PREFILL_CHUNK);
        await this.run(s, this.model.native.embed(chunk), chunk.length, m.pos0 + i, i + PREFILL_CHUNK >= m.tokens.length);
        if (s.closed) return;
      }
    });
  }

  frame(bytes: ArrayBuffer | Uint8Array): void {
    let frame: ReturnType<typeof decodeFrame>;
    try {
      frame = decodeFrame(bytes);
    } catch (err) {
      this.log(`dropping a bad frame: ${(err as Error).message}`);
      return;
    }
    this.enqueue(frame.session, async (s) => {
      if (frame.fromStage !== s.stage - 1)
        throw new StageError("bad_frame", `frame from stage ${frame.fromStage} reached stage ${s.stage}`);
      if (frame.width !== this.model.native.info.nEmbd)
        throw new StageError("bad_frame", `frame width ${frame.width}, model width ${this.model.native.info.nEmbd}`);
      s.work.input.add(frame.pos0, frame.rows, f32Bytes(frame.data));
      await this.run(s, frame.data, frame.rows, frame.pos0, (frame.flags & FLAG_FINAL) !== 0);
    });
  }

  /**
   * The coordinator is done with a session: free it once any step in flight has finished, then
   * send its signed receipt (unless the connection is gone: `sendReceipt` false).
   */
  close(session: number, sendReceipt = true): void {
    const s = this.sessions.get(session);
    if (!s) return;
    s.closed = true;
    this.sessions.delete(session);
    void s.queue.finally(() => {
      s.shard.shard.closeSequence(s.seq);
      this.served.sessions++;
      this.served.tokens += s.work.tokens;
      this.served.energyMj += s.work.energyMj;
      this.served.cpuMs += s.work.cpuMs;
      this.out.servedChanged?.();
      if (sendReceipt) this.out.send({ type: "receipt", session: s.id, receipt: this.receiptOf(s) });
    });
  }

  /** Free every session without receipts (the connection they belonged to is gone). */
  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id, false);
  }

  private receiptOf(s: StageSession) {
    const body: ReceiptBody = {
      v: 1,
      request_id: s.requestId,
      node: this.identity.nodeId,
      model_sha256: this.model.sha256,
      layers: [s.layerBegin, s.layerEnd],
      tokens: s.work.tokens,
      frames_in: s.work.input.links,
      frames_out: s.work.output.links,
      input_chain: s.work.input.hex(),
      output_chain: s.work.output.hex(),
      cpu_ms: Math.round(s.work.cpuMs * 1000) / 1000,
      energy_mj: Math.round(s.work.energyMj * 1000) / 1000,
      energy_method: this.meter.method,
    };
    return signReceipt(body, this.identity.secretKey);
  }

  /** Free sessions idle longer than SESSION_IDLE_MS; returns how many. Called periodically. */
  sweepIdle(now = Date.now()): number {
    let freed = 0;
    for (const s of [...this.sessions.values()]) {
      if (now - s.lastActivity > SESSION_IDLE_MS) {
        this.logSession(`session ${s.id}: idle for ${Math.round((now - s.lastActivity) / 1000)} s, freed`);
        this.close(s.id, false);
        freed++;
      }
    }
    return freed;
  }

  /** This stage's layers on n rows; then the next hop: a frame onward, or (last stage) a choice. */
  private async run(s: StageSession, hidden: Float32Array, n: number, pos0: number, final: boolean): Promise<void> {
    const wantLogits = s.last && final;
    const { hidden: out, logits, cpuMs, energyMj } = await s.shard.batcher.run(s.seq, hidden, n, pos0, wantLogits);
    s.work.tokens += n;
    s.work.cpuMs += cpuMs;
    s.work.energyMj += energyMj;
    if (s.closed) return;
    if (!s.last) {
      const width = this.model.native.info.nEmbd;
      s.work.output.add(pos0, n, f32Bytes(out));
      const frame = encodeFrame({ session: s.id, fromStage: s.stage, flags: final ? FLAG_FINAL : 0, pos0, rows: n, width }, out);
      await this.bandwidth.take(frame.byteLength);
      if (s.closed) return;
      this.out.sendFrame(frame);
      return;
    }
    s.stepHash!.update(f32Bytes(out));
    if (!wantLogits || !logits) return;
    const outputHash = s.stepHash!.update(f32Bytes(logits)).digest("hex");
    s.stepHash = createHash("sha256");
    const chooser = s.chooser!;
    const index = chooser.count;
    const choice = chooser.choose(logits);
    s.work.output.addTokens(index, [choice.tokenId ?? 0xffffffff]);
    this.out.send({
      type: "sampled",
      session: s.id,
      index,
      tokenId: choice.tokenId,
      text: choice.text,
      finish: choice.finish,
      outputHash,
      ...(choice.logprobs ? { logprobs: choice.logprobs } : {}),
    });
  }

  private shardFor(layerBegin: number, layerEnd: number): ShardRef {
    const key = `${layerBegin}-${layerEnd}`;
    let ref = this.shards.get(key);
    if (!ref) {
      const shard = this.model.native.createShard(layerBegin, layerEnd, this.maxSessions);
      ref = { shard, batcher: new ShardBatcher(this.model.native, shard, this.model.pool, MAX_BATCH_ROWS, this.meter) };
      this.shards.set(key, ref);
    }
    return ref;
  }

  private enqueue(session: number, task: (s: StageSession) => Promise<void>): void {
    const s = this.sessions.get(session);
    if (!s) return; // closed or never opened here (a stale message of an abandoned attempt)
    s.lastActivity = Date.now();
    s.queue = s.queue.then(async () => {
      if (s.closed) return;
      try {
        await task(s);
      } catch (err) {
        this.fail(session, err);
        this.close(session);
      }
    });
  }

  private fail(session: number, err: unknown): void {
    const [code, message]: [StageFailureCode, string] =
      err instanceof StageError
        ? [err.code, err.message]
        : err instanceof KernelError
          ? ["kernel_error", `${err.statusName}: ${err.message}`]
          : err instanceof TokenizerError
            ? ["bad_prompt", err.message]
            : ["internal_error", "the agent hit an internal error"];
    if (!(err instanceof StageError || err instanceof KernelError || err instanceof TokenizerError))
      this.log(`session ${session}: ${(err as Error).stack ?? err}`);
    this.out.send({ type: "failed", session, code, message: message.slice(0, 1024) });
  }
}

/** The bytes of f32 rows as they are in memory (little-endian on every supported CPU). */
function f32Bytes(rows: Float32Array): Uint8Array {
  return new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength);
}

class StageError extends Error {
  constructor(
    readonly code: StageFailureCode,
    message: string,
  ) {
    super(message);
  }
}
