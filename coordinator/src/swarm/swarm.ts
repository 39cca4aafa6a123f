/**
 * The Swarm Durable Object: holds every agent's WebSocket (hibernation API) and maps socket
 * events and RPC calls onto the two things that hold the logic — the AgentRegistry (login, shard
 * map, offers) and one PipelineRun per open request (docs/pipeline.md). The registry answers;
 * the Swarm acts on its answers (sends, closes, fails runs over).
 *
 * Invariants:
 * - `runs` and `sessions` live in memory only. That is safe: while a request is open its RPC
 *   stream keeps this object awake, so it cannot hibernate and lose them.
 * - A socket's attachment says whether it has logged in (agent-socket.ts).
 */
import { DurableObject } from "cloudflare:workers";
import type { ConsentRefusal } from "../../../shared/consent/contract.ts";
import { toHex } from "../../../shared/crypto/hex.ts";
import type { ProtocolErrorCode } from "../../../shared/protocol/errors.ts";
import { peekFrameHeader } from "../../../shared/protocol/frame.ts";
import {
  AgentMessageSchema,
  type CoordinatorMessage,
  PING_FRAME,
  PONG_FRAME,
  PROTOCOL_VERSION,
  parseFrame,
} from "../../../shared/protocol/messages.ts";
import { DashboardFeed } from "../dashboard/dashboard-feed.ts";
import { isKnownModel, openDb } from "../db/records.ts";
import { gridIntensity } from "../energy/energy-report.ts";
import { consentEntry } from "../ledger/consent-entry.ts";
import { inferenceEntriesOf } from "../ledger/inference-entry.ts";
import { type LogKey, loadLogKey } from "../ledger/log-key.ts";
import { LogStore } from "../ledger/log-store.ts";
import { Sequencer } from "../ledger/sequencer.ts";
import { Witnessing } from "../ledger/witnessing.ts";
import type { ChatJob } from "../openai/chat-request.ts";
import { AgentRegistry, type ConsentEvent, HEARTBEAT_MS, type ServedModel } from "./agent-registry.ts";
import { announcedModels, attachmentOf, closeQuietly, type SocketAttachment, sendQuietly } from "./agent-socket.ts";
import { agentsReport } from "./agents-report.ts";
import type { OpenResult } from "./job-events.ts";
import { PipelineRun, RequestError, type RunHost } from "./pipeline-run.ts";
import { exploring, missingLayers, planByFile, planChain } from "./planner.ts";
import { NodeStats } from "./verification/node-stats.ts";
import { type Candidate, Verification, type VerificationHost } from "./verification/verification.ts";

export type { ServedModel } from "./agent-registry.ts";

const ALARM_EVERY_MS = 2_000;

export class Swarm extends DurableObject<Env> {
  private readonly db;
  private readonly registry: AgentRegistry;
  private readonly runs = new Map<string, PipelineRun>();
  /** Current attempt's session id → its run. */
  private readonly sessions = new Map<number, PipelineRun>();
  private nextSession = 1;
  /** Runs waiting for capacity; woken whenever a run finishes. */
  private capacityWaiters: (() => void)[] = [];
  /** Session id → run, for every attempt of an open run (receipts arrive after an attempt closes). */
  private readonly receiptRoutes = new Map<number, PipelineRun>();
  private readonly host: RunHost;
  private readonly logKey: LogKey | null;
  private readonly sequencer: Sequencer;
  private readonly witnessing: Witnessing;
  private readonly verification: Verification;
  private readonly feed: DashboardFeed;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.db = openDb(env.DB);
    const stats = new NodeStats(this.db);
    this.registry = new AgentRegistry(ctx, this.db, stats);
    this.verification = new Verification(this.verificationHost(), stats, env.ARIA_VERIFICATION !== "off");
    this.feed = new DashboardFeed(ctx, {
      agents: () =>
        [...this.registry.readySockets()].map(({ attachment }) => ({ attachment, sessions: this.registry.activeOf(attachment.nodeId) })),
      requests: () => ({ in_flight: this.runs.size, queued: [...this.runs.values()].filter((r) => r.queued).length }),
      coverage: () => this.registry.fileCoverage(),
      stats,
      db: env.DB,
      gco2PerKwh: gridIntensity(env),
    });
    // Woken after an eviction with agents still connected: their standings come back from D1 first.
    void ctx.blockConcurrencyWhile(async () => {
      try {
        await stats.loadMany([...this.registry.readySockets()].map((s) => s.attachment.nodeId));
      } catch (err) {
        console.error("verification: could not load node standings", err);
      }
    });
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(PING_FRAME, PONG_FRAME));
    this.host = this.runHost();
    this.logKey = loadLogKey(env.ARIA_LEDGER_KEY);
    const store = new LogStore(env.DB);
    this.sequencer = new Sequencer(store, this.logKey, () => {
      this.feed.ledgerChanged();
      this.witnessAll();
    });
    this.witnessing = new Witnessing(
      store,
      () => this.sequencer.checkpoint(),
      (nodeId, message) => {
        for (const { ws, attachment } of this.registry.readySockets()) {
          if (attachment.nodeId === nodeId) return sendQuietly(ws, JSON.stringify(message));
        }
        return false;
      },
    );
  }

  // ── agent sockets ──────────────────────────────────────────────────────────────────────────

  /** WebSocket upgrades: a dashboard viewer (/dashboard/live), else an agent — accept, challenge, wait for `hello`. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade", { status: 426 });
    }
    if (new URL(request.url).pathname === "/dashboard/live") {
      const response = this.feed.accept();
      await this.ensureAlarm();
      return response;
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
    if (this.feed.isViewer(ws)) return; // viewers only listen
    const attachment = attachmentOf(ws);
    if (!attachment) return this.reject(ws, "bad_state", "socket has no session state");
    if (typeof data !== "string") {
      if (attachment.state !== "ready") return this.reject(ws, "not_logged_in", "log in before sending frames");
      const header = peekFrameHeader(data);
      if (!header) return this.reject(ws, "bad_frame", "binary message is not an activation frame");
      const run = this.sessions.get(header.session);
      if (run) return run.relay(attachment.nodeId, header, data);
      return this.verification.onFrame(attachment.nodeId, header.session, data);
    }
    const parsed = parseFrame(AgentMessageSchema, data);
    if (!parsed.ok) return this.reject(ws, "bad_message", parsed.error);
    const message = parsed.message;
    if (attachment.state === "challenged") {
      if (message.type !== "hello") return this.reject(ws, "not_logged_in", "the first message must be hello");
      const answer = await this.registry.login(ws, attachment.nonce, message);
      if (!answer.ok) return this.reject(ws, answer.code, answer.message, answer.closeCode);
      if (answer.consent) await this.logConsent(answer.consent);
      for (const other of answer.displaced) {
        sendQuietly(
          other,
          JSON.stringify({
            type: "error",
            code: "replaced",
            message: "a newer connection of this node logged in",
          } satisfies CoordinatorMessage),
        );
        closeQuietly(other, 1000, "replaced by a newer connection");
        await this.nodeLost(answer.attachment.nodeId, "agent reconnected");
      }
      const ledger = this.logKey ? { origin: this.logKey.name, vkey: this.logKey.vkey } : undefined;
      sendQuietly(
        ws,
        JSON.stringify({
          type: "welcome",
          nodeId: answer.attachment.nodeId,
          heartbeatMs: HEARTBEAT_MS,
          ledger,
        } satisfies CoordinatorMessage),
      );
      this.witnessing.forget(answer.attachment.nodeId);
      void this.witnessing.ask(answer.attachment.nodeId).catch((err) => console.error("ledger: asking a witness failed", err));
      return;
    }
    switch (message.type) {
      case "hello":
        return this.reject(ws, "bad_state", "already logged in");
      case "ping":
        sendQuietly(ws, PONG_FRAME);
        return;
      case "draining":
        return this.registry.markDraining(ws, attachment);
      case "tokenized":
        return this.sessions.get(message.session)?.onTokenized(attachment.nodeId, message.tokens);
      case "sampled": {
        const run = this.sessions.get(message.session);
        if (run) return run.onSampled(attachment.nodeId, message);
        return this.verification.onSampled(attachment.nodeId, message);
      }
      case "failed": {
        const run = this.sessions.get(message.session);
        if (run) return run.onFailed(attachment.nodeId, message);
        return this.verification.onFailed(attachment.nodeId, message.session, `${message.code}: ${message.message}`);
      }
      case "receipt":
        return this.receiptRoutes.get(message.session)?.onReceipt(attachment.nodeId, message.session, message.receipt);
      case "cosigned":
        return this.witnessing.onCosigned(attachment.nodeId, message);
      case "witness_refused":
        return this.witnessing.onRefused(attachment.nodeId, message);
      case "consent": {
        const answer = await this.registry.updateConsent(ws, attachment, message.consent);
        if (answer && "refused" in answer) return this.reject(ws, "bad_consent", answer.refused);
        if (answer) await this.logConsent(answer);
        // Revoked with "stop open work": its open requests fail over to other agents now.
        if (message.consent.body.contract.revoked && message.consent.body.contract.stop_open_work)
          await this.nodeLost(attachment.nodeId, "the owner revoked consent");
        return;
      }
    }
  }

  override async webSocketClose(ws: WebSocket, code: number, reason: string): Promise<void> {
    closeQuietly(ws, code === 1005 || code === 1006 ? 1000 : code, reason);
    if (this.feed.isViewer(ws)) return;
    await this.socketLost(ws, "agent disconnected");
  }

  override async webSocketError(ws: WebSocket): Promise<void> {
    if (this.feed.isViewer(ws)) return;
    await this.socketLost(ws, "agent connection error");
  }

  /** Periodic sweep: login timeouts, dead agents (no heartbeat), stalled chains. */
  override async alarm(): Promise<void> {
    const now = Date.now();
    const { loginTimeouts, silent } = this.registry.sweep(now);
    for (const ws of loginTimeouts) this.reject(ws, "login_timeout", "no hello within the login timeout");
    for (const ws of silent) {
      closeQuietly(ws, 1011, "heartbeat timeout");
      await this.socketLost(ws, "agent stopped sending heartbeats");
    }
    for (const run of [...this.runs.values()]) await run.checkStall(now);
    this.sequencer.kick();
    this.feed.ensureTicker();
    await this.ensureAlarm();
  }

  // ── RPC from the Worker ───────────────────────────────────────────────────────────────────

  async listModels(): Promise<ServedModel[]> {
    return this.registry.listModels();
  }

  /** The latest checkpoint (signing the empty tree for a new log); null when no log key is set. */
  async ledgerCheckpoint(): Promise<{ size: number } | null> {
    this.sequencer.kick();
    const checkpoint = await this.sequencer.checkpoint();
    return checkpoint ? { size: checkpoint.size } : null;
  }

  /** Every node the coordinator knows, with its standing, consent and energy (admin; docs/verification.md). */
  async listAgents(gco2PerKwh: number) {
    return agentsReport(this.env.DB, this.db, this.verification.stats, [...this.registry.readySockets()], gco2PerKwh);
  }

  /** GET /v1/status: requests, agents with their open sessions, models with their coverage. */
  async networkStatus() {
    const runs = [...this.runs.values()];
    return {
      object: "status",
      requests_in_flight: runs.filter((r) => !r.queued).length,
      queued: runs.filter((r) => r.queued).length,
      agents: [...this.registry.readySockets()].map(({ attachment: a }) => ({
        node_id: a.nodeId,
        version: a.agentVersion,
        models: announcedModels(a),
        sessions: this.registry.activeOf(a.nodeId),
        max_sessions: Math.min(a.maxSessions, a.consent.max_concurrent_tasks),
        draining: a.draining,
      })),
      models: this.registry.fileCoverage().map((f) => ({
        id: f.model,
        sha256: f.sha256,
        n_layers: f.n_layers,
        coverage: f.replicas,
        complete: f.replicas.every((r) => r > 0),
      })),
    };
  }

  /** The dashboard's snapshot, once (GET /dashboard/snapshot). */
  async dashboardSnapshot() {
    return this.feed.snapshot();
  }

  async coverage(model: string): Promise<{ model: string; nLayers: number | null; replicas: number[] }> {
    return this.registry.coverage(model);
  }

  /**
   * Plan, tokenize the prompt, then start the chain; refuse (404/503/400) before anything is
   * streamed. The events stream carries the tokens as the last stage chooses them.
   */
  async openCompletion(job: ChatJob & { requestId: string }): Promise<OpenResult> {
    const refusals = new Set<ConsentRefusal>();
    const offers = this.registry.offersFor(
      job.model,
      { task: job.task, contributionScore: job.contributionScore, at: new Date() },
      refusals,
    );
    const nLayers = offers[0]?.nLayers;
    const file = planByFile(offers, true);
    if (nLayers === undefined || !file) {
      const regardless = this.registry.offersFor(job.model);
      if (refusals.size > 0 && planByFile(regardless, true)) {
        return {
          ok: false,
          code: "no_consent",
          message: `Agents serve '${job.model}', but no agent's consent contract allows this request now (${[...refusals].map(describeRefusal).join("; ")}).`,
        };
      }
      if (!(await isKnownModel(this.db, job.model))) {
        return { ok: false, code: "model_not_found", message: `The model '${job.model}' does not exist or no agent has ever served it.` };
      }
      const gaps =
        nLayers === undefined
          ? "all layers"
          : `layers ${missingLayers(offers, nLayers)
              .map(([b, e]) => `${b}-${e - 1}`)
              .join(", ")}`;
      return {
        ok: false,
        code: "no_agent",
        message: `No agents cover model '${job.model}' right now (missing ${gaps}). Start one with: npx aria-agent start --coordinator <url> --model <path|id>`,
      };
    }
    // A prompt that cannot fit whatever its tokens: refused before any agent sees it.
    const nCtx = Math.min(...file.offers.map((o) => o.nCtx));
    const tooLong = promptCannotFit(job, nCtx, Math.max(0, ...file.offers.map((o) => o.maxTokenBytes ?? 0)));
    if (tooLong) return { ok: false, code: "context_length_exceeded", message: tooLong };
    const { requestId } = job;
    const run = new PipelineRun(this.host, requestId, job, { sha256: file.sha256, nLayers: file.offers[0]!.nLayers }, nCtx);
    this.runs.set(requestId, run);
    await this.ensureAlarm();
    try {
      await run.open();
    } catch (err) {
      const e = err instanceof RequestError ? err : new RequestError("agent_error", String(err));
      return { ok: false, code: e.code, message: e.message };
    }
    return { ok: true, requestId, events: run.events };
  }

  // ── acting for runs ───────────────────────────────────────────────────────────────────────

  private runHost(): RunHost {
    return {
      plan: (run, excluded) => {
        const offers = this.offersForRun(run, excluded);
        const plan = planChain(exploring(offers), run.nLayers);
        if (!plan) return null;
        const byNode = new Map(offers.map((o) => [o.nodeId, o]));
        return plan.map((p) => {
          const o = byNode.get(p.nodeId)!;
          return { ...p, ws: o.ws, sha256: o.sha256, agentVersion: o.agentVersion };
        });
      },
      covered: (run, excluded) => {
        return planChain(this.offersForRun(run, excluded), run.nLayers, true) !== null;
      },
      beginSession: (run, chain) => {
        const session = this.nextSession++ >>> 0;
        this.sessions.set(session, run);
        this.receiptRoutes.set(session, run);
        this.registry.claim(chain.map((s) => s.nodeId));
        return session;
      },
      endSession: (session, chain) => {
        this.sessions.delete(session);
        this.registry.release(chain.map((s) => s.nodeId));
        // The chain's slots are free now (its run may still be collecting receipts).
        for (const wake of this.capacityWaiters.splice(0)) wake();
      },
      capacityFreed: (ms) =>
        new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, ms);
          this.capacityWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        }),
      recordStageTime: (nodeId, ms) => this.registry.recordStageTime(nodeId, ms),
      watch: (stage) => this.verification.watch(stage),
      stepServed: (nodeId) => this.verification.stepServed(nodeId),
      tokenGenerated: () => this.feed.tokens(1),
      recordCompletion: async (run, finishReason) => {
        await this.sequencer.submit(await inferenceEntriesOf(run, finishReason, Date.now()));
      },
      finished: (run) => {
        this.runs.delete(run.requestId);
        for (const a of run.attempts) this.receiptRoutes.delete(a.session);
        for (const wake of this.capacityWaiters.splice(0)) wake();
      },
    };
  }

  private verificationHost(): VerificationHost {
    return {
      candidates: (stage, avoid, busyToo = false) => {
        const { open } = stage;
        const out: Candidate[] = [];
        for (const o of this.registry.offersFor(open.model, {
          task: open.task,
          contributionScore: open.contributionScore,
          at: new Date(),
        })) {
          // Same file, layers, context and agent version: a build with other chunking would differ honestly.
          const fits =
            o.sha256 === stage.sha256 &&
            o.agentVersion === stage.agentVersion &&
            o.layerBegin <= open.layerBegin &&
            o.layerEnd >= open.layerEnd &&
            o.nCtx >= open.nCtx;
          if (fits && !avoid.has(o.nodeId) && (busyToo || o.active < o.maxSessions)) out.push({ nodeId: o.nodeId, ws: o.ws });
        }
        return out;
      },
      newSession: () => this.nextSession++ >>> 0,
      beginReplay: (nodeId) => this.registry.claim([nodeId]),
      endReplay: (nodeId) => {
        this.registry.release([nodeId]);
        for (const wake of this.capacityWaiters.splice(0)) wake();
      },
      log: (entries) => this.sequencer.submit(entries),
      exclude: async (nodeId, reason) => {
        for (const { ws, attachment } of this.registry.readySockets()) {
          if (attachment.nodeId !== nodeId) continue;
          sendQuietly(ws, JSON.stringify({ type: "error", code: "excluded", message: reason } satisfies CoordinatorMessage));
          closeQuietly(ws, 1008, "excluded after a failed verification check");
        }
        await this.nodeLost(nodeId, "the node was excluded after a failed verification check");
      },
    };
  }

  /**
   * Log a consent event. The contract is already stored and in force; if its entry cannot be
   * queued (D1 failing), that is reported here and the entry is missing from the log.
   */
  private async logConsent(event: ConsentEvent): Promise<void> {
    try {
      await this.sequencer.submit([consentEntry(event)]);
    } catch (err) {
      console.error("ledger: could not queue a consent entry", err);
    }
  }

  /** Offers a run may use now: its model file only (replays must compute the same), within consent, not excluded. */
  private offersForRun(run: PipelineRun, excluded: ReadonlySet<string>) {
    return this.registry
      .offersFor(run.model, { ...run.task, at: new Date() })
      .filter((o) => o.sha256 === run.sha256 && !excluded.has(o.nodeId));
  }

  /** A new checkpoint: ask every logged-in agent to witness it. */
  private witnessAll(): void {
    const nodes = [...this.registry.readySockets()].map((s) => s.attachment.nodeId);
    void this.witnessing.askAll(nodes).catch((err) => console.error("ledger: asking witnesses failed", err));
  }

  /** A socket is gone: every run using its node fails over. */
  private async socketLost(ws: WebSocket, why: string): Promise<void> {
    const a = attachmentOf(ws);
    if (a?.state === "ready") await this.nodeLost(a.nodeId, why);
  }

  private async nodeLost(nodeId: string, why: string): Promise<void> {
    this.verification.nodeLost(nodeId);
    for (const run of [...this.runs.values()]) await run.stageLost(nodeId, why);
  }

  private reject(ws: WebSocket, code: ProtocolErrorCode, message: string, closeCode = 1008): void {
    sendQuietly(ws, JSON.stringify({ type: "error", code, message } satisfies CoordinatorMessage));
    closeQuietly(ws, closeCode, message);
    void this.socketLost(ws, message);
  }

  private async ensureAlarm(): Promise<void> {
    if (this.ctx.getWebSockets().length === 0 && this.runs.size === 0) return;
    if ((await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now() + ALARM_EVERY_MS);
  }
}

/**
 * Why a prompt cannot fit the context, judged without tokenizing: user text is encoded as ordinary
 * text, where no token stands for more than `maxTokenBytes` bytes, so b bytes need at least
 * b / maxTokenBytes tokens. Null when it might fit (the agent's tokenizer decides), or when the
 * agents did not say their longest token.
 */
function promptCannotFit(job: ChatJob, nCtx: number, maxTokenBytes: number): string | null {
  if (maxTokenBytes <= 0) return null;
  const encoder = new TextEncoder();
  const bytes =
    job.prompt !== undefined ? encoder.encode(job.prompt).length : job.messages.reduce((n, m) => n + encoder.encode(m.content).length, 0);
  const atLeast = Math.ceil(bytes / maxTokenBytes);
  if (atLeast < nCtx) return null;
  return `This model's maximum context length is ${nCtx} tokens; the prompt (${bytes} bytes) is at least ${atLeast} tokens.`;
}

/** Consent refusals in the words of the 503 message. */
function describeRefusal(refusal: ConsentRefusal): string {
  switch (refusal) {
    case "revoked":
      return "consent revoked";
    case "schedule":
      return "outside the owners' schedules and days";
    case "task_type":
      return "this task type is not allowed";
    case "contribution_score":
      return "the requester's contribution score is below the owners' minimum";
  }
}
