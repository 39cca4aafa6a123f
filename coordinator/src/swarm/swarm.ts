/**
 * The Swarm Durable Object: holds every agent's WebSocket (hibernation API), logs agents in by
 * challenge-signature, assigns requests to agents, relays their tokens to the Worker as an event
 * stream, and appends a ledger row when a request completes.
 *
 * Invariants:
 * - A socket's attachment says whether it has logged in; only "ready" sockets get work.
 * - `jobs` lives in memory only. That is safe: while a job is open its RPC stream keeps this
 *   object awake, so it cannot hibernate and lose the map.
 * - A job's events end with exactly one `done` or `error`, after which the job is gone.
 */
import { DurableObject } from "cloudflare:workers";
import { verifyHex } from "../../../shared/crypto/ed25519.ts";
import { toHex } from "../../../shared/crypto/hex.ts";
import {
  AgentMessageSchema,
  authMessage,
  type CoordinatorMessage,
  type DoneMessage,
  type HelloMessage,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  parseFrame,
} from "../../../shared/protocol/messages.ts";
import { appendLedger, isKnownModel, openDb, recordLogin } from "../db/records.ts";
import type { ChatJob } from "../openai/chat-request.ts";
import { attachmentOf, closeQuietly, coversWholeModel, type SocketAttachment, sendQuietly } from "./agent-socket.ts";
import { encodeEvent, type JobEvent, type OpenResult } from "./job-events.ts";

/** How often agents ping; sent to them in `welcome`. */
export const HEARTBEAT_MS = 5_000;
/** A logged-in agent silent for this long is considered dead. */
export const HEARTBEAT_TIMEOUT_MS = 3 * HEARTBEAT_MS;
/** An agent must answer the challenge within this time. */
export const LOGIN_TIMEOUT_MS = 10_000;
/** A job with no event from its agent for this long fails with 504. */
export const JOB_STALL_MS = 60_000;
const ALARM_EVERY_MS = 2_500;

interface ActiveJob {
  requestId: string;
  model: string;
  nodeId: string;
  socket: WebSocket;
  controller: ReadableStreamDefaultController<Uint8Array>;
  startedAt: number;
  lastEventAt: number;
  nextIndex: number;
}

/** A served model as /v1/models reports it. */
export interface ServedModel {
  id: string;
  nLayers: number;
  agents: number;
}

export class Swarm extends DurableObject<Env> {
  private readonly jobs = new Map<string, ActiveJob>();
  private readonly db;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = openDb(env.DB);
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
  }

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
    if (typeof data !== "string") return this.reject(ws, "unexpected_binary", "binary frames are not part of this protocol version");
    const parsed = parseFrame(AgentMessageSchema, data);
    if (!parsed.ok) return this.reject(ws, "bad_message", parsed.error);
    const message = parsed.message;
    const attachment = attachmentOf(ws);
    if (!attachment) return this.reject(ws, "bad_state", "socket has no session state");

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
      case "token": {
        const job = this.jobOf(message.requestId, attachment.nodeId);
        if (!job) return;
        if (message.index !== job.nextIndex) {
          this.finish(job, {
            type: "error",
            status: 502,
            code: "agent_protocol_error",
            message: `agent sent token ${message.index}, expected ${job.nextIndex}`,
          });
          sendQuietly(ws, JSON.stringify({ type: "cancel", requestId: job.requestId } satisfies CoordinatorMessage));
          return;
        }
        job.nextIndex++;
        job.lastEventAt = Date.now();
        if (message.text.length > 0) this.emit(job, { type: "token", text: message.text });
        return;
      }
      case "done": {
        const job = this.jobOf(message.requestId, attachment.nodeId);
        if (job) await this.complete(job, message);
        return;
      }
      case "failed": {
        const job = this.jobOf(message.requestId, attachment.nodeId);
        if (job) this.finish(job, { type: "error", status: 502, code: message.code, message: `agent failed: ${message.message}` });
        return;
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    this.failJobsOf(ws, "agent disconnected");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    this.failJobsOf(ws, "agent connection error");
  }

  /** Periodic sweep: login timeouts, dead agents (no heartbeat), stalled jobs. */
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
          this.failJobsOf(ws, "agent stopped sending heartbeats");
          closeQuietly(ws, 1011, "heartbeat timeout");
        }
      }
    }
    for (const job of [...this.jobs.values()]) {
      if (now - job.lastEventAt > JOB_STALL_MS) {
        sendQuietly(job.socket, JSON.stringify({ type: "cancel", requestId: job.requestId } satisfies CoordinatorMessage));
        this.finish(job, { type: "error", status: 504, code: "agent_timeout", message: "the agent stopped producing tokens" });
      }
    }
    await this.ensureAlarm();
  }

  /** Models that some logged-in agent can serve on its own, with how many agents serve each. */
  async listModels(): Promise<ServedModel[]> {
    const served = new Map<string, ServedModel>();
    for (const { shard } of this.readyShards()) {
      if (!coversWholeModel(shard)) continue;
      const entry = served.get(shard.id) ?? { id: shard.id, nLayers: shard.nLayers, agents: 0 };
      entry.agents++;
      served.set(shard.id, entry);
    }
    return [...served.values()].sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Start a completion on the least-loaded agent serving the model; refuse with 404/503 before any work. */
  async openCompletion(job: ChatJob): Promise<OpenResult> {
    const candidates: { ws: WebSocket; nodeId: string; load: number; max: number }[] = [];
    for (const { ws, attachment, shard } of this.readyShards()) {
      if (shard.id !== job.model || !coversWholeModel(shard)) continue;
      const load = [...this.jobs.values()].filter((j) => j.nodeId === attachment.nodeId).length;
      candidates.push({ ws, nodeId: attachment.nodeId, load, max: attachment.maxSessions });
    }
    if (candidates.length === 0) {
      if (await isKnownModel(this.db, job.model)) {
        return {
          ok: false,
          status: 503,
          code: "no_agent",
          message: `No agent is serving model '${job.model}' right now. Start one with: npx aria-agent start --coordinator <url> --model <path|id>`,
        };
      }
      return {
        ok: false,
        status: 404,
        code: "model_not_found",
        message: `The model '${job.model}' does not exist or no agent has ever served it.`,
      };
    }
    const free = candidates.filter((c) => c.load < c.max).sort((a, b) => a.load - b.load);
    const chosen = free[0];
    if (!chosen) {
      return { ok: false, status: 503, code: "agents_busy", message: `Every agent serving '${job.model}' is at capacity; retry shortly.` };
    }

    const requestId = `chatcmpl-${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const events = new ReadableStream<Uint8Array>({
      start: (c) => {
        controller = c;
      },
      cancel: () => {
        // The client went away: stop the agent's work; nothing is recorded in the ledger.
        const active = this.jobs.get(requestId);
        if (!active) return;
        this.jobs.delete(requestId);
        sendQuietly(active.socket, JSON.stringify({ type: "cancel", requestId } satisfies CoordinatorMessage));
      },
    });
    const now = Date.now();
    const active: ActiveJob = {
      requestId,
      model: job.model,
      nodeId: chosen.nodeId,
      socket: chosen.ws,
      controller,
      startedAt: now,
      lastEventAt: now,
      nextIndex: 0,
    };
    this.jobs.set(requestId, active);
    const sent = sendQuietly(
      chosen.ws,
      JSON.stringify({
        type: "generate",
        requestId,
        model: job.model,
        messages: job.messages,
        params: job.params,
      } satisfies CoordinatorMessage),
    );
    if (!sent)
      this.finish(active, { type: "error", status: 502, code: "agent_unreachable", message: "the chosen agent's connection failed" });
    await this.ensureAlarm();
    return { ok: true, requestId, events };
  }

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
        this.failJobsOf(other, "agent reconnected");
        sendQuietly(
          other,
          JSON.stringify({
            type: "error",
            code: "replaced",
            message: "a newer connection of this node logged in",
          } satisfies CoordinatorMessage),
        );
        closeQuietly(other, 1000, "replaced by a newer connection");
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
    } satisfies SocketAttachment);
    sendQuietly(ws, JSON.stringify({ type: "welcome", nodeId: hello.nodeId, heartbeatMs: HEARTBEAT_MS } satisfies CoordinatorMessage));
  }

  /** Ledger first, then the client's final event: a completion is only reported once recorded. */
  private async complete(job: ActiveJob, done: DoneMessage): Promise<void> {
    if (done.completionTokens !== job.nextIndex) {
      this.finish(job, {
        type: "error",
        status: 502,
        code: "agent_protocol_error",
        message: `agent reported ${done.completionTokens} tokens but sent ${job.nextIndex}`,
      });
      return;
    }
    this.jobs.delete(job.requestId);
    if (done.tail.length > 0) this.emit(job, { type: "token", text: done.tail });
    try {
      await appendLedger(this.db, {
        requestId: job.requestId,
        modelId: job.model,
        nodeIds: JSON.stringify([job.nodeId]),
        promptSha256: done.promptSha256,
        outputSha256: done.outputSha256,
        promptTokens: done.promptTokens,
        completionTokens: done.completionTokens,
        finishReason: done.finishReason,
        latencyMs: Date.now() - job.startedAt,
        createdAt: Date.now(),
      });
    } catch (err) {
      console.error(err);
      this.finish(job, { type: "error", status: 500, code: "ledger_write_failed", message: "the completion could not be recorded" });
      return;
    }
    this.finish(job, {
      type: "done",
      finishReason: done.finishReason,
      promptTokens: done.promptTokens,
      completionTokens: done.completionTokens,
    });
  }

  private *readyShards() {
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = attachmentOf(ws);
      if (attachment?.state !== "ready") continue;
      for (const shard of attachment.models) yield { ws, attachment, shard };
    }
  }

  /** The job with this id if it belongs to this node; a stray id is ignored (it may have been cancelled). */
  private jobOf(requestId: string, nodeId: string): ActiveJob | undefined {
    const job = this.jobs.get(requestId);
    return job && job.nodeId === nodeId ? job : undefined;
  }

  private emit(job: ActiveJob, event: JobEvent): void {
    try {
      job.controller.enqueue(encodeEvent(event));
    } catch {
      // the stream was cancelled by the client
    }
  }

  /** Send the job's last event and close its stream. */
  private finish(job: ActiveJob, event: JobEvent): void {
    this.jobs.delete(job.requestId);
    this.emit(job, event);
    try {
      job.controller.close();
    } catch {
      // already closed or cancelled
    }
  }

  private failJobsOf(ws: WebSocket, why: string): void {
    for (const job of [...this.jobs.values()]) {
      if (job.socket === ws) {
        this.finish(job, { type: "error", status: 502, code: "agent_lost", message: why });
      }
    }
  }

  private reject(ws: WebSocket, code: string, message: string, closeCode = 1008): void {
    sendQuietly(ws, JSON.stringify({ type: "error", code, message } satisfies CoordinatorMessage));
    this.failJobsOf(ws, message);
    closeQuietly(ws, closeCode, message);
  }

  private async ensureAlarm(): Promise<void> {
    if (this.ctx.getWebSockets().length === 0 && this.jobs.size === 0) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + ALARM_EVERY_MS);
  }
}
