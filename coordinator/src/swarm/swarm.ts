/**
 * The Swarm Durable Object: holds every agent's WebSocket (hibernation API), logs agents in by
 * challenge-signature, keeps the shard map, plans each request as a chain of agents covering
 * all layers, relays activation frames between stages, replays a request onto a new chain when
 * a stage is lost, and appends a ledger row when a request completes (docs/pipeline.md).
 *
 * Invariants:
 * - A socket's attachment says whether it has logged in; only "ready", non-draining sockets get
 *   new work.
 * - `requests` lives in memory only. That is safe: while a request is open its RPC stream keeps
 *   this object awake, so it cannot hibernate and lose the map.
 * - The token history (`prompt`, `generated`) is the truth: ledger hashes and replays use it.
 * - Each chain attempt has its own session id; anything tagged with an older id is ignored, so
 *   a token is never emitted twice.
 * - A request's events end with exactly one `done` or `error`.
 */
import { DurableObject } from "cloudflare:workers";
import { verifyHex } from "../../../shared/crypto/ed25519.ts";
import { sha256OfTokens } from "../../../shared/crypto/hash.ts";
import { toHex } from "../../../shared/crypto/hex.ts";
import { peekFrameHeader } from "../../../shared/protocol/frame.ts";
import {
  AgentMessageSchema,
  authMessage,
  type CoordinatorMessage,
  type HelloMessage,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  parseFrame,
  type SampledMessage,
} from "../../../shared/protocol/messages.ts";
import { appendLedger, isKnownModel, openDb, recordLogin } from "../db/records.ts";
import type { ChatJob } from "../openai/chat-request.ts";
import { attachmentOf, closeQuietly, type ReadyAttachment, type SocketAttachment, sendQuietly } from "./agent-socket.ts";
import { encodeEvent, type JobEvent, type OpenResult } from "./job-events.ts";
import { missingLayers, type Offer, planChain, updateEwma } from "./planner.ts";
import { type Attempt, RequestError, type RequestState, type StageRef } from "./request-state.ts";

/** How often agents ping; sent to them in `welcome`. */
export const HEARTBEAT_MS = 2_000;
/** A logged-in agent silent for this long is considered dead. */
export const HEARTBEAT_TIMEOUT_MS = 3 * HEARTBEAT_MS;
/** An agent must answer the challenge within this time. */
export const LOGIN_TIMEOUT_MS = 10_000;
/** A chain attempt with no output from any stage for this long is abandoned for another chain. */
export const STALL_TIMEOUT_MS = 10_000;
/** How long a request waits for a free slot when every covering agent is at capacity. */
export const QUEUE_TIMEOUT_MS = 30_000;
/** Failovers per request before giving up. */
export const MAX_FAILOVERS = 3;
/** Stage-time estimate for an agent not yet measured. */
const DEFAULT_STAGE_MS = 20;
const ALARM_EVERY_MS = 2_000;

/** A served model as /v1/models reports it. */
export interface ServedModel {
  id: string;
  nLayers: number;
  agents: number;
}

export class Swarm extends DurableObject<Env> {
  private readonly requests = new Map<string, RequestState>();
  /** Current attempt's session id → its request. */
  private readonly sessions = new Map<number, RequestState>();
  /** Measured stage time per node (EWMA, ms). */
  private readonly stageMs = new Map<string, number>();
  private nextSession = 1;
  /** Requests waiting for capacity; woken whenever a request finishes. */
  private capacityWaiters: (() => void)[] = [];
  private readonly db;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = openDb(env.DB);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
  }

  // ── agent sockets ──────────────────────────────────────────────────────────────────────────

  /** Agent WebSocket upgrade: accept, challenge, and wait for `hello`. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    const { 0: client, 1: server } = new WebSocketPair();
    this.ctx.acceptWebSocket(server);
    const nonce = toHex(crypto.getRandomValues(new Uint8Array(32)));
    server.serializeAttachment({ state: "challenged", nonce, connectedAt: Date.now() } satisfies SocketAttachment);
    server.send(JSON.stringify({ type: "challenge", protocol: PROTOCOL_VERSION, nonce } satisfies CoordinatorMessage));
    await this.ensureAlarm();
    return new Response(null, { status: 101, webSocket: client });
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    const attachment = attachmentOf(ws);
    if (!attachment) return this.reject(ws, "bad_state", "socket has no session state");
    if (typeof data !== "string") {
      if (attachment.state !== "ready") return this.reject(ws, "not_logged_in", "log in before sending frames");
      return this.relayFrame(ws, attachment, data);
    }
    const parsed = parseFrame(AgentMessageSchema, data);
    if (!parsed.ok) return this.reject(ws, "bad_message", parsed.error);
    const message = parsed.message;
    if (attachment.state === "challenged") {
      if (message.type !== "hello") return this.reject(ws, "not_logged_in", "the first message must be hello");
      return this.login(ws, attachment.nonce, message);
    }
    switch (message.type) {
      case "hello":
        return this.reject(ws, "bad_state", "already logged in");
      case "ping":
        sendQuietly(ws, PONG_FRAME);
        return;
      case "draining":
        ws.serializeAttachment({ ...attachment, draining: true } satisfies SocketAttachment);
        return;
      case "tokenized": {
        const req = this.requestOfStage(message.session, attachment.nodeId, 0);
        if (!req?.tokenized) return;
        req.prompt = message.tokens;
        req.attempt!.lastProgressAt = Date.now();
        req.tokenized.resolve();
        return;
      }
      case "sampled": {
        const req = this.sessions.get(message.session);
        const chain = req?.attempt?.chain;
        if (!req || !chain || chain[chain.length - 1]!.nodeId !== attachment.nodeId) return;
        return this.onSampled(req, message);
      }
      case "failed": {
        const req = this.sessions.get(message.session);
        if (!req?.attempt?.chain.some((s) => s.nodeId === attachment.nodeId)) return;
        if (message.code === "bad_prompt") return this.fail(req, new RequestError(400, "bad_prompt", message.message));
        return this.failover(req, attachment.nodeId, `agent failed (${message.code}): ${message.message}`);
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    await this.agentLost(ws, "agent disconnected");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    await this.agentLost(ws, "agent connection error");
  }

  /** Periodic sweep: login timeouts, dead agents (no heartbeat), stalled chains. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    for (const ws of this.ctx.getWebSockets()) {
      const a = attachmentOf(ws);
      if (!a) continue;
      if (a.state === "challenged" && now - a.connectedAt > LOGIN_TIMEOUT_MS) {
        this.reject(ws, "login_timeout", "no hello within the login timeout");
      } else if (a.state === "ready") {
        const lastPing = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? a.connectedAt;
        if (now - Math.max(lastPing, a.connectedAt) > HEARTBEAT_TIMEOUT_MS) {
          closeQuietly(ws, 1011, "heartbeat timeout");
          await this.agentLost(ws, "agent stopped sending heartbeats");
        }
      }
    }
    for (const req of [...this.requests.values()]) {
      const attempt = req.attempt;
      if (!attempt || now - attempt.lastProgressAt <= STALL_TIMEOUT_MS) continue;
      // Blame the stage that has had work the longest without answering.
      const waiting = attempt.chain.filter((s) => s.lastInputAt > s.lastOutputAt).sort((a, b) => a.lastInputAt - b.lastInputAt);
      const blamed = (waiting[0] ?? attempt.chain[0]!).nodeId;
      await this.failover(req, blamed, "a pipeline stage stopped making progress");
    }
    await this.ensureAlarm();
  }

  // ── RPC from the Worker ───────────────────────────────────────────────────────────────────

  /** Models whose layers the logged-in agents fully cover, with how many agents serve each. */
  async listModels(): Promise<ServedModel[]> {
    const byModel = new Map<string, { nLayers: number; offers: Offer[] }>();
    for (const { attachment, shard } of this.readyShards()) {
      const entry = byModel.get(shard.id) ?? { nLayers: shard.nLayers, offers: [] };
      entry.offers.push(this.offerOf(attachment, shard.layerBegin, shard.layerEnd));
      byModel.set(shard.id, entry);
    }
    const served: ServedModel[] = [];
    for (const [id, { nLayers, offers }] of byModel) {
      if (planChain(offers, nLayers, true)) served.push({ id, nLayers, agents: new Set(offers.map((o) => o.nodeId)).size });
    }
    return served.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** How many logged-in agents hold each layer of a model (for agents choosing their range). */
  async coverage(model: string): Promise<{ model: string; nLayers: number | null; replicas: number[] }> {
    let nLayers: number | null = null;
    const shards: { layerBegin: number; layerEnd: number }[] = [];
    for (const { shard } of this.readyShards()) {
      if (shard.id !== model && shard.sha256 !== model) continue;
      nLayers = shard.nLayers;
      shards.push(shard);
    }
    const replicas = new Array<number>(nLayers ?? 0).fill(0);
    for (const s of shards) for (let l = s.layerBegin; l < s.layerEnd; l++) replicas[l] = (replicas[l] ?? 0) + 1;
    return { model, nLayers, replicas };
  }

  /**
   * Plan, tokenize the prompt, then start the chain; refuse with 400/404/503 before anything is
   * streamed. The events stream carries the tokens as the last stage chooses them.
   */
  async openCompletion(job: ChatJob): Promise<OpenResult> {
    const offers = this.offersFor(job.model);
    const nLayers = offers[0]?.nLayers;
    if (nLayers === undefined || !planChain(offers, nLayers, true)) {
      if (!(await isKnownModel(this.db, job.model))) {
        return {
          ok: false,
          status: 404,
          code: "model_not_found",
          message: `The model '${job.model}' does not exist or no agent has ever served it.`,
        };
      }
      const gaps =
        nLayers === undefined
          ? "all layers"
          : `layers ${missingLayers(offers, nLayers)
              .map(([b, e]) => `${b}-${e - 1}`)
              .join(", ")}`;
      return {
        ok: false,
        status: 503,
        code: "no_agent",
        message: `No agents cover model '${job.model}' right now (missing ${gaps}). Start one with: npx aria-agent start --coordinator <url> --model <path|id>`,
      };
    }
    const requestId = `chatcmpl-${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const events = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      cancel: () => {
        // The client went away: stop the chain; nothing is recorded in the ledger.
        const req = this.requests.get(requestId);
        if (req) this.finishRequest(req);
      },
    });
    const req: RequestState = {
      requestId,
      model: job.model,
      nLayers,
      nCtx: Math.min(...offers.map((o) => o.nCtx)),
      messages: job.messages,
      params: { ...job.params, seed: job.params.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]! },
      controller,
      startedAt: Date.now(),
      prompt: null,
      generated: [],
      budget: 0,
      attempt: null,
      failovers: 0,
      excluded: new Set(),
      tokenized: null,
      done: false,
    };
    this.requests.set(requestId, req);
    await this.ensureAlarm();
    try {
      await this.tokenize(req);
    } catch (err) {
      this.finishRequest(req);
      const e = err instanceof RequestError ? err : new RequestError(502, "agent_error", String(err));
      return { ok: false, status: e.status === 500 ? 502 : e.status, code: e.code, message: e.message };
    }
    await this.startAttempt(req);
    return { ok: true, requestId, events };
  }

  // ── request lifecycle ─────────────────────────────────────────────────────────────────────

  /** Ask the first stage of a fresh chain for the prompt's token ids; fail over while tokenizing. */
  private async tokenize(req: RequestState): Promise<void> {
    for (;;) {
      const attempt = this.newAttempt(req) ?? (await this.waitForCapacity(req));
      const wait = new Promise<void>((resolve, reject) => {
        req.tokenized = { resolve, reject };
      });
      this.sendTo(attempt.chain[0]!, { type: "tokenize", session: attempt.session, model: req.model, messages: req.messages });
      try {
        await wait;
        break;
      } catch (err) {
        if (!(err instanceof RequestError) || err.code !== "retry") throw err;
      } finally {
        req.tokenized = null;
      }
    }
    const prompt = req.prompt!;
    if (prompt.length === 0) throw new RequestError(400, "empty_prompt", "The prompt has no tokens.");
    if (prompt.length >= req.nCtx) {
      throw new RequestError(
        400,
        "context_length_exceeded",
        `The prompt is ${prompt.length} tokens; this model's context is ${req.nCtx} tokens.`,
      );
    }
    req.budget = Math.min(req.params.maxTokens, req.nCtx - prompt.length);
  }

  /**
   * No chain has a free slot: wait (in arrival order of wake-ups) until a request finishes and
   * a chain can be planned, or give up with 503 when the model is no longer covered or the wait
   * is too long.
   */
  private async waitForCapacity(req: RequestState): Promise<Attempt> {
    const deadline = Date.now() + QUEUE_TIMEOUT_MS;
    for (;;) {
      const offers = this.offersFor(req.model).filter((o) => !req.excluded.has(o.nodeId));
      if (!planChain(offers, req.nLayers, true))
        throw new RequestError(503, "no_route", `no chain of agents can serve '${req.model}' right now`);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new RequestError(503, "agents_busy", `every agent serving '${req.model}' is at capacity; retry shortly`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(remaining, 1_000));
        this.capacityWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      if (req.done) throw new RequestError(503, "cancelled", "the request was cancelled");
      const attempt = this.newAttempt(req);
      if (attempt) return attempt;
    }
  }

  /** Open every stage of the current attempt and feed it the history (prompt + generated). */
  private async startAttempt(req: RequestState): Promise<void> {
    const attempt = req.attempt;
    if (!attempt || req.done) return;
    const history = [...req.prompt!, ...req.generated];
    attempt.chain.forEach((stage, i) => {
      this.sendTo(stage, {
        type: "open",
        session: attempt.session,
        model: req.model,
        stage: i,
        stages: attempt.chain.length,
        layerBegin: stage.layerBegin,
        layerEnd: stage.layerEnd,
        nCtx: req.prompt!.length + req.budget,
        params: { ...req.params, maxTokens: req.budget },
        history: req.generated,
      });
    });
    attempt.running = true;
    this.sendTo(attempt.chain[0]!, { type: "feed", session: attempt.session, pos0: 0, tokens: history }, true);
  }

  private async onSampled(req: RequestState, m: SampledMessage): Promise<void> {
    const attempt = req.attempt!;
    const last = attempt.chain[attempt.chain.length - 1]!;
    this.stageOutput(last);
    if (m.index !== req.generated.length) {
      return this.failover(req, last.nodeId, `the last stage sent token ${m.index}, expected ${req.generated.length}`);
    }
    if (m.tokenId !== null) req.generated.push(m.tokenId);
    if (m.text.length > 0) this.emit(req, { type: "token", text: m.text });
    if (m.finish) return this.complete(req, m.finish);
    if (m.tokenId === null) return this.failover(req, last.nodeId, "the last stage ended without a finish reason");
    const pos0 = req.prompt!.length + req.generated.length - 1;
    this.sendTo(attempt.chain[0]!, { type: "feed", session: attempt.session, pos0, tokens: [m.tokenId] }, true);
  }

  /** Ledger first, then the client's final event: a completion is only reported once recorded. */
  private async complete(req: RequestState, finishReason: "stop" | "length"): Promise<void> {
    const chain = req.attempt?.chain.map((s) => s.nodeId) ?? [];
    this.closeAttempt(req);
    try {
      await appendLedger(this.db, {
        requestId: req.requestId,
        modelId: req.model,
        nodeIds: JSON.stringify(chain),
        promptSha256: await sha256OfTokens(req.prompt!),
        outputSha256: await sha256OfTokens(req.generated),
        promptTokens: req.prompt!.length,
        completionTokens: req.generated.length,
        finishReason,
        latencyMs: Date.now() - req.startedAt,
        createdAt: Date.now(),
      });
    } catch (err) {
      console.error(err);
      return this.fail(req, new RequestError(500, "ledger_write_failed", "the completion could not be recorded"));
    }
    this.emit(req, { type: "done", finishReason, promptTokens: req.prompt!.length, completionTokens: req.generated.length });
    this.finishRequest(req);
  }

  /** Abandon the current attempt (blaming `nodeId`) and continue on a new chain, replaying. */
  private async failover(req: RequestState, nodeId: string, why: string): Promise<void> {
    if (req.done) return;
    req.excluded.add(nodeId);
    this.closeAttempt(req);
    if (++req.failovers > MAX_FAILOVERS)
      return this.fail(req, new RequestError(503, "no_route", `gave up after ${MAX_FAILOVERS} failovers; last: ${why}`));
    if (req.tokenized) {
      // Still tokenizing: let tokenize() retry on a new chain.
      return req.tokenized.reject(new RequestError(503, "retry", why));
    }
    if (!this.newAttempt(req)) return this.fail(req, new RequestError(503, "no_route", `${why}, and no other agents can take over`));
    await this.startAttempt(req);
  }

  /** Every request using this socket loses its chain: fail over each of them. */
  private async agentLost(ws: WebSocket, why: string): Promise<void> {
    const a = attachmentOf(ws);
    for (const req of [...this.requests.values()]) {
      const stage = req.attempt?.chain.find((s) => s.ws === ws);
      if (stage) await this.failover(req, stage.nodeId, why);
      else if (a?.state === "ready" && req.attempt?.chain.some((s) => s.nodeId === a.nodeId)) await this.failover(req, a.nodeId, why);
    }
  }

  private fail(req: RequestState, err: RequestError): void {
    if (req.tokenized) {
      req.tokenized.reject(err);
      return;
    }
    this.emit(req, { type: "error", status: err.status, code: err.code, message: err.message });
    this.finishRequest(req);
  }

  /** Close the attempt and the event stream; forget the request. */
  private finishRequest(req: RequestState): void {
    if (req.done) return;
    req.done = true;
    this.closeAttempt(req);
    this.requests.delete(req.requestId);
    for (const wake of this.capacityWaiters.splice(0)) wake();
    try {
      req.controller.close();
    } catch {
      // already closed or cancelled
    }
  }

  /** Plan a chain avoiding the request's excluded agents; it becomes the current attempt. */
  private newAttempt(req: RequestState): Attempt | null {
    const offers = this.offersFor(req.model).filter((o) => !req.excluded.has(o.nodeId));
    const plan = planChain(offers, req.nLayers);
    if (!plan) return null;
    const sockets = new Map(offers.map((o) => [o.nodeId, o.ws]));
    const now = Date.now();
    const chain: StageRef[] = plan.map((p) => ({ ...p, ws: sockets.get(p.nodeId)!, lastInputAt: 0, lastOutputAt: 0 }));
    const attempt: Attempt = { session: this.nextSession++ >>> 0, chain, running: false, lastProgressAt: now };
    req.attempt = attempt;
    this.sessions.set(attempt.session, req);
    return attempt;
  }

  private closeAttempt(req: RequestState): void {
    const attempt = req.attempt;
    if (!attempt) return;
    req.attempt = null;
    this.sessions.delete(attempt.session);
    for (const stage of attempt.chain)
      sendQuietly(stage.ws, JSON.stringify({ type: "close", session: attempt.session } satisfies CoordinatorMessage));
  }

  // ── relaying and timing ───────────────────────────────────────────────────────────────────

  /** Forward a stage's activation frame, unchanged, to the next stage of its chain. */
  private relayFrame(ws: WebSocket, a: ReadyAttachment, data: ArrayBuffer): void {
    const header = peekFrameHeader(data);
    if (!header) {
      this.reject(ws, "bad_frame", "binary message is not an activation frame");
      return;
    }
    const req = this.sessions.get(header.session);
    const chain = req?.attempt?.chain;
    const from = chain?.[header.fromStage];
    if (!req || !chain || !from || from.nodeId !== a.nodeId) return; // a stale attempt's frame
    const next = chain[header.fromStage + 1];
    if (!next) return void this.failover(req, a.nodeId, "the last stage sent a frame");
    this.stageOutput(from);
    if (!this.sendTo(next, data, true)) void this.failover(req, next.nodeId, "the next stage's connection failed");
  }

  /** Send to a stage; `work` marks input it must answer (for timing and stall blame). */
  private sendTo(stage: StageRef, message: CoordinatorMessage | ArrayBuffer, work = false): boolean {
    if (work) stage.lastInputAt = Date.now();
    return sendQuietly(stage.ws, message instanceof ArrayBuffer ? message : JSON.stringify(message));
  }

  /** A stage answered: progress, and one more sample of its stage time. */
  private stageOutput(stage: StageRef): void {
    const now = Date.now();
    const req = [...this.requests.values()].find((r) => r.attempt?.chain.includes(stage));
    if (req?.attempt) req.attempt.lastProgressAt = now;
    if (stage.lastInputAt > stage.lastOutputAt)
      this.stageMs.set(stage.nodeId, updateEwma(this.stageMs.get(stage.nodeId), now - stage.lastInputAt));
    stage.lastOutputAt = now;
  }

  // ── the shard map ─────────────────────────────────────────────────────────────────────────

  private *readyShards() {
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = attachmentOf(ws);
      if (attachment?.state !== "ready" || ws.readyState !== WebSocket.OPEN) continue;
      for (const shard of attachment.models) yield { ws, attachment, shard };
    }
  }

  private offerOf(a: ReadyAttachment, layerBegin: number, layerEnd: number): Offer {
    let active = 0;
    for (const r of this.requests.values()) if (r.attempt?.chain.some((s) => s.nodeId === a.nodeId)) active++;
    return {
      nodeId: a.nodeId,
      layerBegin,
      layerEnd,
      stageMs: this.stageMs.get(a.nodeId) ?? DEFAULT_STAGE_MS,
      active,
      maxSessions: a.maxSessions,
    };
  }

  /** Offers for a model from agents that take new work (not draining). */
  private offersFor(model: string): (Offer & { ws: WebSocket; nLayers: number; nCtx: number })[] {
    const out: (Offer & { ws: WebSocket; nLayers: number; nCtx: number })[] = [];
    for (const { ws, attachment, shard } of this.readyShards()) {
      if (shard.id !== model || attachment.draining) continue;
      out.push({ ...this.offerOf(attachment, shard.layerBegin, shard.layerEnd), ws, nLayers: shard.nLayers, nCtx: shard.nCtx });
    }
    return out;
  }

  private requestOfStage(session: number, nodeId: string, stage: number): RequestState | undefined {
    const req = this.sessions.get(session);
    return req?.attempt?.chain[stage]?.nodeId === nodeId ? req : undefined;
  }

  private emit(req: RequestState, event: JobEvent): void {
    try {
      req.controller.enqueue(encodeEvent(event));
    } catch {
      // the stream was cancelled by the client
    }
  }

  // ── login ─────────────────────────────────────────────────────────────────────────────────

  private async login(ws: WebSocket, nonce: string, hello: HelloMessage): Promise<void> {
    if (hello.protocol !== PROTOCOL_VERSION) {
      return this.reject(ws, "unsupported_protocol", `this coordinator speaks ${PROTOCOL_VERSION}, the agent ${hello.protocol}`);
    }
    if (!(await verifyHex(hello.signature, authMessage(nonce), hello.nodeId))) {
      return this.reject(ws, "bad_signature", "the challenge signature does not verify against the node key");
    }
    for (const shard of hello.models) {
      if (shard.layerBegin >= shard.layerEnd || shard.layerEnd > shard.nLayers) {
        return this.reject(
          ws,
          "bad_shard",
          `model ${shard.id}: layer range [${shard.layerBegin}, ${shard.layerEnd}) is not within ${shard.nLayers} layers`,
        );
      }
    }
    for (const other of this.ctx.getWebSockets()) {
      const a = attachmentOf(other);
      if (other !== ws && a?.state === "ready" && a.nodeId === hello.nodeId) {
        sendQuietly(
          other,
          JSON.stringify({
            type: "error",
            code: "replaced",
            message: "a newer connection of this node logged in",
          } satisfies CoordinatorMessage),
        );
        closeQuietly(other, 1000, "replaced by a newer connection");
        await this.agentLost(other, "agent reconnected");
      }
    }
    const now = Date.now();
    try {
      await recordLogin(this.db, hello.nodeId, hello.agentVersion, hello.models, now);
    } catch (err) {
      console.error(err);
      return this.reject(ws, "server_error", "the coordinator could not record the login; retry later", 1011);
    }
    ws.serializeAttachment({
      state: "ready",
      nodeId: hello.nodeId,
      agentVersion: hello.agentVersion,
      models: hello.models,
      maxSessions: hello.maxSessions,
      connectedAt: now,
      draining: false,
    } satisfies SocketAttachment);
    sendQuietly(ws, JSON.stringify({ type: "welcome", nodeId: hello.nodeId, heartbeatMs: HEARTBEAT_MS } satisfies CoordinatorMessage));
  }

  private reject(ws: WebSocket, code: string, message: string, closeCode = 1008): void {
    sendQuietly(ws, JSON.stringify({ type: "error", code, message } satisfies CoordinatorMessage));
    closeQuietly(ws, closeCode, message);
    void this.agentLost(ws, message);
  }

  private async ensureAlarm(): Promise<void> {
    if (this.ctx.getWebSockets().length === 0 && this.requests.size === 0) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + ALARM_EVERY_MS);
  }
}
