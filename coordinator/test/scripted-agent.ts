/**
 * A protocol peer for coordinator tests: it speaks the agent side of the wire protocol from a
 * script, so the Swarm's login, routing, relaying and ledger can be tested inside workerd.
 * (The real agent is exercised end to end in tests/e2e.)
 */
import { SELF } from "cloudflare:test";
import { publicKeyHex, randomSecretKey, signHex } from "../../shared/crypto/ed25519.ts";
import { type AgentMessage, authMessage, type CoordinatorMessage, PROTOCOL_VERSION } from "../../shared/protocol/messages.ts";

export class ScriptedAgent {
  private queue: CoordinatorMessage[] = [];
  private waiters: ((m: CoordinatorMessage) => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const message = JSON.parse(event.data as string) as CoordinatorMessage;
      const waiter = this.waiters.shift();
      if (waiter) waiter(message);
      else this.queue.push(message);
    });
    ws.addEventListener("close", (event) => {
      this.closed = { code: event.code, reason: event.reason };
    });
  }

  static async connect(): Promise<ScriptedAgent> {
    const res = await SELF.fetch("http://coordinator.test/v1/agents/connect", { headers: { upgrade: "websocket" } });
    if (!res.webSocket) throw new Error(`no WebSocket in the upgrade response (${res.status})`);
    res.webSocket.accept();
    return new ScriptedAgent(res.webSocket);
  }

  next(): Promise<CoordinatorMessage> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  send(message: AgentMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Answer the challenge; `signWith` lets a test sign with the wrong key. */
  async login(model = "test-model", opts: { secretKey?: Uint8Array; signWith?: Uint8Array; maxSessions?: number } = {}) {
    const challenge = await this.next();
    if (challenge.type !== "challenge") throw new Error(`expected a challenge, got ${challenge.type}`);
    const secretKey = opts.secretKey ?? randomSecretKey();
    const nodeId = await publicKeyHex(secretKey);
    const signature = await signHex(authMessage(challenge.nonce), opts.signWith ?? secretKey);
    this.send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agentVersion: "test",
      nodeId,
      signature,
      maxSessions: opts.maxSessions ?? 2,
      models: [{ id: model, sha256: "ab".repeat(32), nLayers: 4, layerBegin: 0, layerEnd: 4, nCtx: 512 }],
    });
    return { nodeId, reply: await this.next() };
  }
}
