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
import { verifyHex } from "../../../shared/crypto/ed25519.ts";
import type { ProtocolErrorCode } from "../../../shared/protocol/errors.ts";
import { authMessage, type HelloMessage, PROTOCOL_VERSION } from "../../../shared/protocol/messages.ts";
import { type Db, recordLogin } from "../db/records.ts";
import { attachmentOf, type ReadyAttachment, type SocketAttachment } from "./agent-socket.ts";
import { type Offer, planChain, updateEwma } from "./planner.ts";

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
export type LiveOffer = Offer & { ws: WebSocket; nLayers: number; nCtx: number; sha256: string };

export type LoginAnswer =
  | { ok: true; attachment: ReadyAttachment; displaced: WebSocket[] }
  | { ok: false; code: ProtocolErrorCode; message: string; closeCode: number };

export class AgentRegistry {
  /** Measured stage time per node (EWMA, ms). */
  private readonly stageMs = new Map<string, number>();
  /** Open chain attempts each node is part of. */
  private readonly active = new Map<string, number>();

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly db: Db,
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
    const now = Date.now();
    try {
      await recordLogin(this.db, hello.nodeId, hello.agentVersion, hello.models, now);
    } catch (err) {
      console.error(err);
      return refuse("server_error", "the coordinator could not record the login; retry later", 1011);
    }
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
    };
    ws.serializeAttachment(attachment satisfies SocketAttachment);
    return { ok: true, attachment, displaced };
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

  /** One more measurement of a node's stage time (input sent → output seen). */
  recordStageTime(nodeId: string, ms: number): void {
    this.stageMs.set(nodeId, updateEwma(this.stageMs.get(nodeId), ms));
  }

  // ── the shard map ─────────────────────────────────────────────────────────────────────────

  /** Offers for a model from agents that take new work (not draining). */
  offersFor(model: string): LiveOffer[] {
    const out: LiveOffer[] = [];
    for (const { ws, attachment, shard } of this.readyShards()) {
      if (shard.id !== model || attachment.draining) continue;
      out.push({
        ...this.offerOf(attachment, shard.layerBegin, shard.layerEnd),
        ws,
        nLayers: shard.nLayers,
        nCtx: shard.nCtx,
        sha256: shard.sha256,
      });
    }
    return out;
  }

  /** Models whose layers the logged-in agents fully cover, with how many agents serve each. */
  listModels(): ServedModel[] {
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
      maxSessions: a.maxSessions,
    };
  }
}

function refuse(code: ProtocolErrorCode, message: string, closeCode = 1008): LoginAnswer {
  return { ok: false, code, message, closeCode };
}
