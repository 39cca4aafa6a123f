/**
 * The agent's one outbound connection to the coordinator: challenge-signature login, heartbeats,
 * and reconnection with exponential backoff and jitter whenever the socket drops (e.g. the
 * coordinator restarts). Consumer PCs accept no inbound connections, so this socket is all.
 */
import { signHex } from "../../../shared/crypto/ed25519.ts";
import {
  type AgentMessage,
  authMessage,
  type CoordinatorMessage,
  CoordinatorMessageSchema,
  type HelloMessage,
  PING_FRAME,
  PROTOCOL_VERSION,
  parseFrame,
} from "../../../shared/protocol/messages.ts";
import { backoffDelay } from "./backoff.ts";

export interface LinkOptions {
  url: string;
  secretKey: Uint8Array;
  nodeId: string;
  announce: Omit<HelloMessage, "type" | "protocol" | "nodeId" | "signature">;
  /** Work for this agent: tokenize, open, feed, close. */
  onRequest: (message: Extract<CoordinatorMessage, { type: "tokenize" | "open" | "feed" | "close" }>) => void;
  /** Logged in; `ledger` is the coordinator's log, when it runs one. */
  onWelcome?: (ledger: { origin: string; vkey: string } | undefined) => void;
  /** A checkpoint to witness (a tlog-witness add-checkpoint body); the answer goes back on the link. */
  onWitness?: (body: string) => void;
  /** A binary activation frame relayed from the previous stage. */
  onFrame: (bytes: ArrayBuffer) => void;
  /** Called when the socket drops: in-flight work for the old socket is void. */
  onDisconnect: () => void;
  log: (line: string) => void;
  backoff?: { baseMs: number; maxMs: number };
}

export class CoordinatorLink {
  private socket: WebSocket | null = null;
  private attempt = 0;
  private stopped = false;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  private lastPongAt = 0;
  private ready = false;

  constructor(private opts: LinkOptions) {}

  /** Connect now and keep reconnecting until stop(). */
  start(): void {
    this.connect();
  }

  get connected(): boolean {
    return this.ready;
  }

  /** Send a message on the current socket; false when not logged in (the work is lost with it). */
  send(message: AgentMessage): boolean {
    if (!this.ready || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(JSON.stringify(message));
    return true;
  }

  /** Send a binary activation frame; false when not logged in. */
  sendFrame(bytes: Uint8Array): boolean {
    if (!this.ready || this.socket?.readyState !== WebSocket.OPEN) return false;
    this.socket.send(bytes);
    return true;
  }

  /** A new consent contract: in force for the next login, and sent now when logged in. */
  setConsent(consent: HelloMessage["consent"]): void {
    this.opts.announce = { ...this.opts.announce, consent };
    this.send({ type: "consent", consent });
  }

  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.clearHeartbeat();
    this.socket?.close(1000, "agent stopping");
  }

  private connect(): void {
    const ws = new WebSocket(this.opts.url);
    ws.binaryType = "arraybuffer";
    this.socket = ws;
    this.ready = false;
    ws.onmessage = (event) => {
      if (typeof event.data === "string") void this.onText(ws, event.data);
      else if (this.ready && event.data instanceof ArrayBuffer) this.opts.onFrame(event.data);
    };
    ws.onclose = (event) => {
      if (this.socket !== ws) return;
      const wasReady = this.ready;
      this.ready = false;
      this.socket = null;
      this.clearHeartbeat();
      if (wasReady) this.opts.onDisconnect();
      if (this.stopped) return;
      const delay = backoffDelay(this.attempt++, this.opts.backoff ?? { baseMs: 500, maxMs: 30_000 });
      this.opts.log(`coordinator connection closed (${event.code}${event.reason ? ` ${event.reason}` : ""}); reconnecting in ${delay} ms`);
      this.reconnectTimer = setTimeout(() => this.connect(), delay);
    };
    ws.onerror = () => {
      // onclose follows and schedules the reconnect
    };
  }

  private async onText(ws: WebSocket, data: string): Promise<void> {
    const parsed = parseFrame(CoordinatorMessageSchema, data);
    if (!parsed.ok) {
      this.opts.log(`ignoring a bad frame from the coordinator: ${parsed.error}`);
      return;
    }
    const message = parsed.message;
    switch (message.type) {
      case "challenge": {
        if (message.protocol !== PROTOCOL_VERSION) {
          this.opts.log(`coordinator speaks ${message.protocol}, this agent ${PROTOCOL_VERSION}`);
        }
        const signature = await signHex(authMessage(message.nonce), this.opts.secretKey);
        const hello: HelloMessage = {
          type: "hello",
          protocol: PROTOCOL_VERSION,
          nodeId: this.opts.nodeId,
          signature,
          ...this.opts.announce,
        };
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(hello));
        return;
      }
      case "welcome": {
        this.ready = true;
        this.attempt = 0;
        this.lastPongAt = Date.now();
        this.startHeartbeat(ws, message.heartbeatMs);
        this.opts.log(`connected to ${this.opts.url} as node ${message.nodeId.slice(0, 16)}…`);
        this.opts.onWelcome?.(message.ledger);
        return;
      }
      case "pong":
        this.lastPongAt = Date.now();
        return;
      case "tokenize":
      case "open":
      case "feed":
      case "close":
        if (this.ready) this.opts.onRequest(message);
        return;
      case "witness":
        if (this.ready) this.opts.onWitness?.(message.body);
        return;
      case "error":
        if (message.code === "excluded") {
          // Final for this key: retries continue at the slowest pace, in case an operator lifts it.
          this.attempt = Number.MAX_SAFE_INTEGER;
          this.opts.log(`the coordinator excluded this node key after a failed verification check: ${message.message}`);
          return;
        }
        this.opts.log(`coordinator error ${message.code}: ${message.message}`);
        return;
    }
  }

  /** Ping every interval; a coordinator silent for three intervals is treated as gone. */
  private startHeartbeat(ws: WebSocket, intervalMs: number): void {
    this.clearHeartbeat();
    this.heartbeat = setInterval(() => {
      if (Date.now() - this.lastPongAt > 3 * intervalMs) {
        this.opts.log("coordinator stopped answering heartbeats");
        ws.close(4000, "heartbeat timeout");
        return;
      }
      if (ws.readyState === WebSocket.OPEN) ws.send(PING_FRAME);
    }, intervalMs);
  }

  private clearHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
