/**
 * The agent registry: who is logged in, what each agent holds (the shard map), how busy and how
 * fast each one is, and the offers the planner chooses from. It only *answers* — a login's
 * verdict and the sockets it displaces, the sockets a sweep found dead — and the Swarm acts on
 * the answers (sends, closes, fails over), so this module never calls back into the Swarm.
 *
 * Invariants:
 * - The shard map is the sockets' hibernation attachments: it survives the Durable Object
 *   being evicted between messages. Load and stage times are in memory; both are only
 *   estimates for planning and rebuild themselves.
 * - Only "ready", open, non-draining sockets get new work.
 */

import { type ConsentRefusal, consentRefusal, type TaskType } from "../../../shared/consent/contract.ts";
import { consentSignatureHolds, type SignedConsent } from "../../../shared/consent/signed-consent.ts";
import { verifyHex } from "../../../shared/crypto/ed25519.ts";
import type { ProtocolErrorCode } from "../../../shared/protocol/errors.ts";
import { authMessage, type HelloMessage, PROTOCOL_VERSION } from "../../../shared/protocol/messages.ts";
import { type Db, recordLogin, saveConsent, storedConsent } from "../db/records.ts";
import { attachmentOf, type ReadyAttachment, type SocketAttachment } from "./agent-socket.ts";
import { type FileOffer, type Offer, planByFile, updateEwma } from "./planner.ts";
import type { NodeStats } from "./verification/node-stats.ts";

/** How often agents ping; sent to them in `welcome`. */
export const HEARTBEAT_MS = 2_000;
/** A logged-in agent silent for this long is considered dead. */
export const HEARTBEAT_TIMEOUT_MS = 3 * HEARTBEAT_MS;
/** An agent must answer the challenge within this time. */
export const LOGIN_TIMEOUT_MS = 10_000;
/** Stage-time estimate for an agent not yet measured. */
const DEFAULT_STAGE_MS = 20;

/** A served model as /v1/models reports it. */
export interface ServedModel {
  id: string;
  nLayers: number;
  agents: number;
}

/** An offer with what the Swarm needs to use it. */
export type LiveOffer = Offer & {
  ws: WebSocket;
  nLayers: number;
  nCtx: number;
  sha256: string;
  agentVersion: string;
  maxTokenBytes?: number;
};

/** A consent event to log: a first contract, a changed one, or a revocation. */
export type ConsentEvent = { event: "grant" | "change" | "revoke"; signed: SignedConsent };

export type LoginAnswer =
  | { ok: true; attachment: ReadyAttachment; displaced: WebSocket[]; consent: ConsentEvent | null }
  | { ok: false; code: ProtocolErrorCode; message: string; closeCode: number };

/** What consent contracts judge about a request. */
export interface WorkRequest {
  task: TaskType;
  contributionScore: number;
  at: Date;
}

export class AgentRegistry {
  /** Measured stage time per node (EWMA, ms). */
  private readonly stageMs = new Map<string, number>();
  /** Open chain attempts each node is part of. */
  private readonly active = new Map<string, number>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly db: Db,
    private readonly stats: NodeStats,
  ) {}

  /** Check a hello against its challenge and record the login; name the sockets it displaces. */
  async login(ws: WebSocket, nonce: string, hello: HelloMessage): Promise<LoginAnswer> {
    if (hello.protocol !== PROTOCOL_VERSION) {
      return refuse("unsupported_protocol", `this coordinator speaks ${PROTOCOL_VERSION}, the agent ${hello.protocol}`);
    }
    if (!(await verifyHex(hello.signature, authMessage(nonce), hello.nodeId))) {
      return refuse("bad_signature", "the challenge signature does not verify against the node key");
    }
    for (const shard of hello.models) {
      if (shard.layerBegin >= shard.layerEnd || shard.layerEnd > shard.nLayers) {
        return refuse(
          "bad_shard",
          `model ${shard.id}: layer range [${shard.layerBegin}, ${shard.layerEnd}) is not within ${shard.nLayers} layers`,
        );
      }
    }
    let standing: Awaited<ReturnType<NodeStats["load"]>>;
    try {
      standing = await this.stats.load(hello.nodeId);
    } catch (err) {
      console.error(err);
      return refuse("server_error", "the coordinator could not read this node's standing; retry later", 1011);
    }
    if (standing.excludedAt !== null) {
      return refuse(
        "excluded",
        `this node key was excluded on ${new Date(standing.excludedAt).toISOString()}: ${standing.excludedReason ?? "it failed a verification check"}`,
      );
    }
    const consentProblem = await checkConsent(hello.consent, hello.nodeId);
    if (consentProblem) return refuse("bad_consent", consentProblem);
    const maxRam = hello.consent.body.contract.max_ram_mb;
    const held = hello.models.reduce((n, s) => n + s.heldBytes, 0);
    if (held > maxRam * 2 ** 20) {
      return refuse(
        "bad_consent",
        `the layers announced need ${Math.ceil(held / 2 ** 20)} MB, more than the consent's max_ram_mb ${maxRam}`,
      );
    }
    const now = Date.now();
    let consent: ConsentEvent | null;
    try {
      await recordLogin(this.db, hello.nodeId, hello.agentVersion, hello.models, now);
      consent = await this.recordConsent(hello.consent, now);
    } catch (err) {
      console.error(err);
      return refuse("server_error", "the coordinator could not record the login; retry later", 1011);
    }
    // Excluded while this login awaited D1: refuse it here, before the socket can get work.
    if (standing.excludedAt !== null)
      return refuse("excluded", `this node key was excluded: ${standing.excludedReason ?? "it failed a verification check"}`);
    const displaced = this.ctx.getWebSockets().filter((other) => {
      const a = attachmentOf(other);
      return other !== ws && a?.state === "ready" && a.nodeId === hello.nodeId;
    });
    const attachment: ReadyAttachment = {
      state: "ready",
      nodeId: hello.nodeId,
      agentVersion: hello.agentVersion,
      models: hello.models,
      maxSessions: hello.maxSessions,
      connectedAt: now,
      draining: false,
      consent: hello.consent.body.contract,
      consentIssuedAt: hello.consent.body.issued_at,
    };
    ws.serializeAttachment(attachment satisfies SocketAttachment);
    return { ok: true, attachment, displaced, consent };
  }

  /**
   * The owner changed or revoked the contract: check it, store it, and put it in force for new
   * work. Answers the event to log (null for a stale or repeated contract), or a refusal.
   */
  async updateConsent(
    ws: WebSocket,
    attachment: ReadyAttachment,
    signed: SignedConsent,
  ): Promise<ConsentEvent | null | { refused: string }> {
    const problem = await checkConsent(signed, attachment.nodeId);
    if (problem) return { refused: problem };
    if (signed.body.issued_at <= attachment.consentIssuedAt) return null;
    ws.serializeAttachment({
      ...attachment,
      consent: signed.body.contract,
      consentIssuedAt: signed.body.issued_at,
    } satisfies SocketAttachment);
    return this.recordConsent(signed, Date.now());
  }

  /** Store a contract unless it is the one already stored; the event it is, for the log. */
  private async recordConsent(signed: SignedConsent, now: number): Promise<ConsentEvent | null> {
    const before = await storedConsent(this.db, signed.body.node);
    if (before && before.signature === signed.signature) return null;
    if (before && before.body.issued_at > signed.body.issued_at) return null; // an older contract replayed
    await saveConsent(this.db, signed, now);
    const event = signed.body.contract.revoked ? "revoke" : before ? "change" : "grant";
    return { event, signed };
  }

  markDraining(ws: WebSocket, attachment: ReadyAttachment): void {
    ws.serializeAttachment({ ...attachment, draining: true } satisfies SocketAttachment);
  }

  /** Sockets that missed the login timeout, and logged-in ones whose heartbeats stopped. */
  sweep(now: number): { loginTimeouts: WebSocket[]; silent: WebSocket[] } {
    const loginTimeouts: WebSocket[] = [];
    const silent: WebSocket[] = [];
    for (const ws of this.ctx.getWebSockets()) {
      const a = attachmentOf(ws);
      if (!a) continue;
      if (a.state === "challenged" && now - a.connectedAt > LOGIN_TIMEOUT_MS) loginTimeouts.push(ws);
      else if (a.state === "ready") {
        const lastPing = this.ctx.getWebSocketAutoResponseTimestamp(ws)?.getTime() ?? a.connectedAt;
        if (now - Math.max(lastPing, a.connectedAt) > HEARTBEAT_TIMEOUT_MS) silent.push(ws);
      }
    }
    return { loginTimeouts, silent };
  }

  // ── load and speed ────────────────────────────────────────────────────────────────────────

  /** A chain attempt now uses these nodes (each once per attempt). */
  claim(nodeIds: readonly string[]): void {
    for (const id of new Set(nodeIds)) this.active.set(id, (this.active.get(id) ?? 0) + 1);
  }

  /** A chain attempt using these nodes has closed. */
  release(nodeIds: readonly string[]): void {
    for (const id of new Set(nodeIds)) {
      const left = (this.active.get(id) ?? 1) - 1;
      if (left > 0) this.active.set(id, left);
      else this.active.delete(id);
    }
  }

  /** Open chain attempts (and re-execution checks) a node is part of now. */
  activeOf(nodeId: string): number {
    return this.active.get(nodeId) ?? 0;
  }

  /** One more measurement of a node's stage time (input sent → output seen). */
  recordStageTime(nodeId: string, ms: number): void {
    this.stageMs.set(nodeId, updateEwma(this.stageMs.get(nodeId), ms));
  }

  // ── the shard map ─────────────────────────────────────────────────────────────────────────

  /**
   * Offers for a model from agents that take new work (not draining), and — given a request —
   * whose consent contracts allow it now (revocation included). `refusals` collects why the
   * others' contracts did not. Without a request: every non-draining holder, whatever its contract.
   */
  offersFor(model: string, request?: WorkRequest, refusals?: Set<ConsentRefusal>): LiveOffer[] {
    const out: LiveOffer[] = [];
    for (const { ws, attachment, shard } of this.readyShards()) {
      if (shard.id !== model || attachment.draining) continue;
      const refusal = request ? consentRefusal(attachment.consent, request) : null;
      if (refusal) {
        refusals?.add(refusal);
        continue;
      }
      out.push({
        ...this.offerOf(attachment, shard.layerBegin, shard.layerEnd),
        ws,
        nLayers: shard.nLayers,
        nCtx: shard.nCtx,
        sha256: shard.sha256,
        agentVersion: attachment.agentVersion,
        ...(shard.maxTokenBytes !== undefined ? { maxTokenBytes: shard.maxTokenBytes } : {}),
      });
    }
    return out;
  }

  /** Models whose layers the logged-in agents fully cover, with how many agents serve each. */
  listModels(): ServedModel[] {
    const byModel = new Map<string, FileOffer[]>();
    for (const { attachment, shard } of this.readyShards()) {
      if (attachment.consent.revoked) continue;
      const offer = { ...this.offerOf(attachment, shard.layerBegin, shard.layerEnd), sha256: shard.sha256, nLayers: shard.nLayers };
      byModel.set(shard.id, [...(byModel.get(shard.id) ?? []), offer]);
    }
    const served: ServedModel[] = [];
    for (const [id, offers] of byModel) {
      const file = planByFile(offers, true);
      if (file) served.push({ id, nLayers: file.offers[0]!.nLayers, agents: new Set(file.offers.map((o) => o.nodeId)).size });
    }
    return served.sort((a, b) => a.id.localeCompare(b.id));
  }

  /** How many logged-in agents hold each layer of a model (for agents choosing their range). */
  coverage(model: string): { model: string; nLayers: number | null; replicas: number[] } {
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

  /** Per model file being served: replicas of each layer (the dashboard's coverage map). */
  fileCoverage(): { model: string; sha256: string; n_layers: number; replicas: number[] }[] {
    const files = new Map<string, { model: string; sha256: string; n_layers: number; replicas: number[] }>();
    for (const { attachment, shard } of this.readyShards()) {
      if (attachment.consent.revoked) continue;
      const key = `${shard.id}\n${shard.sha256}`;
      let f = files.get(key);
      if (!f) {
        f = { model: shard.id, sha256: shard.sha256, n_layers: shard.nLayers, replicas: new Array<number>(shard.nLayers).fill(0) };
        files.set(key, f);
      }
      for (let l = shard.layerBegin; l < Math.min(shard.layerEnd, f.n_layers); l++) f.replicas[l]!++;
    }
    return [...files.values()].sort((a, b) => a.model.localeCompare(b.model) || a.sha256.localeCompare(b.sha256));
  }

  /** The file hash an agent announced for a model (receipts must name the same file). */
  modelSha256(nodeId: string, model: string): string | null {
    for (const { attachment, shard } of this.readyShards()) {
      if (attachment.nodeId === nodeId && shard.id === model) return shard.sha256;
    }
    return null;
  }

  /** Logged-in, open sockets (for messages to every agent, such as witness requests). */
  *readySockets(): Generator<{ ws: WebSocket; attachment: ReadyAttachment }> {
    for (const ws of this.ctx.getWebSockets()) {
      const attachment = attachmentOf(ws);
      if (attachment?.state === "ready" && ws.readyState === WebSocket.OPEN) yield { ws, attachment };
    }
  }

  private *readyShards() {
    for (const { ws, attachment } of this.readySockets()) {
      for (const shard of attachment.models) yield { ws, attachment, shard };
    }
  }

  private offerOf(a: ReadyAttachment, layerBegin: number, layerEnd: number): Offer {
    return {
      nodeId: a.nodeId,
      layerBegin,
      layerEnd,
      stageMs: this.stageMs.get(a.nodeId) ?? DEFAULT_STAGE_MS,
      active: this.active.get(a.nodeId) ?? 0,
      // The owner's contract caps what the agent offers.
      maxSessions: Math.min(a.maxSessions, a.consent.max_concurrent_tasks),
    };
  }
}

/** Why a signed contract is not acceptable from this node, or null. */
async function checkConsent(signed: SignedConsent, nodeId: string): Promise<string | null> {
  if (signed.body.node !== nodeId) return "the consent contract is signed for another node";
  if (!(await consentSignatureHolds(signed))) return "the consent contract's signature does not verify against the node key";
  return null;
}

function refuse(code: ProtocolErrorCode, message: string, closeCode = 1008): LoginAnswer {
  return { ok: false, code, message, closeCode };
}
