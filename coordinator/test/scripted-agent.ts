/**
 * A protocol peer for coordinator tests: it speaks the agent side of the wire protocol from a
 * script, so the Swarm's login, planning, relaying, failover and ledger can be tested inside
 * workerd. (Real agents are exercised end to end in tests/e2e.)
 */
import { SELF } from "cloudflare:test";
import { type ConsentContract, DEFAULT_CONTRACT } from "../../shared/consent/contract.ts";
import { signConsent } from "../../shared/consent/signed-consent.ts";
import { publicKeyHex, randomSecretKey, signHex } from "../../shared/crypto/ed25519.ts";
import { type AgentMessage, authMessage, type CoordinatorMessage, PROTOCOL_VERSION } from "../../shared/protocol/messages.ts";

/** A JSON message, or the bytes of a binary frame. */
type Incoming = CoordinatorMessage | { binary: Uint8Array };

/** A last-stage step's output hash, for scripts whose outputs nobody re-executes. */
export const OUTPUT_HASH = "0".repeat(64);

export class ScriptedAgent {
  private queue: Incoming[] = [];
  private waiters: ((m: Incoming) => void)[] = [];
  /** Witness requests are kept apart, so scripts about requests need not expect them. */
  readonly witnessRequests: string[] = [];
  private witnessWaiters: ((body: string) => void)[] = [];
  closed: { code: number; reason: string } | null = null;

  private constructor(readonly ws: WebSocket) {
    ws.addEventListener("message", (event) => {
      const message: Incoming =
        typeof event.data === "string"
          ? (JSON.parse(event.data) as CoordinatorMessage)
          : { binary: new Uint8Array(event.data as ArrayBuffer) };
      if (!("binary" in message) && message.type === "witness") {
        const waiter = this.witnessWaiters.shift();
        if (waiter) waiter(message.body);
        else this.witnessRequests.push(message.body);
        return;
      }
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
    // Binary messages as ArrayBuffer (synchronously readable), not Blob.
    (res.webSocket as unknown as { binaryType: string }).binaryType = "arraybuffer";
    return new ScriptedAgent(res.webSocket);
  }

  /** The next message or binary frame. */
  next(): Promise<Incoming> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Messages received and not yet taken. */
  queued(): number {
    return this.queue.length;
  }

  /** The next witness request (a tlog-witness add-checkpoint body). */
  nextWitnessRequest(): Promise<string> {
    const queued = this.witnessRequests.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => this.witnessWaiters.push(resolve));
  }

  /** The next message, which must be of type `type`. */
  async expect<T extends CoordinatorMessage["type"]>(type: T): Promise<Extract<CoordinatorMessage, { type: T }>> {
    const m = await this.next();
    if ("binary" in m || m.type !== type) throw new Error(`expected ${type}, got ${"binary" in m ? "a binary frame" : JSON.stringify(m)}`);
    return m as Extract<CoordinatorMessage, { type: T }>;
  }

  /** The next binary frame. */
  async expectFrame(): Promise<Uint8Array> {
    const m = await this.next();
    if (!("binary" in m)) throw new Error(`expected a binary frame, got ${JSON.stringify(m)}`);
    return m.binary;
  }

  send(message: AgentMessage | Record<string, unknown>): void {
    this.ws.send(JSON.stringify(message));
  }

  /** Answer the challenge; `signWith` lets a test sign with the wrong key. */
  async login(
    model = "test-model",
    opts: {
      secretKey?: Uint8Array;
      signWith?: Uint8Array;
      maxSessions?: number;
      layers?: [number, number];
      nLayers?: number;
      nCtx?: number;
      /** Contract fields that differ from the default contract. */
      consent?: Partial<ConsentContract>;
      heldBytes?: number;
      /** The model file's hash (default ab…ab). */
      sha256?: string;
    } = {},
  ) {
    const challenge = await this.expect("challenge");
    const secretKey = opts.secretKey ?? randomSecretKey();
    const nodeId = await publicKeyHex(secretKey);
    const signature = await signHex(authMessage(challenge.nonce), opts.signWith ?? secretKey);
    const nLayers = opts.nLayers ?? 4;
    const [layerBegin, layerEnd] = opts.layers ?? [0, nLayers];
    this.send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agentVersion: "test",
      nodeId,
      signature,
      maxSessions: opts.maxSessions ?? 2,
      models: [
        {
          id: model,
          sha256: opts.sha256 ?? "ab".repeat(32),
          nLayers,
          layerBegin,
          layerEnd,
          nCtx: opts.nCtx ?? 512,
          heldBytes: opts.heldBytes ?? 1024,
        },
      ],
      consent: signConsent({ ...DEFAULT_CONTRACT, ...opts.consent }, nodeId, secretKey, Date.now()),
    });
    this.identity = { nodeId, secretKey };
    return { nodeId, secretKey, reply: await this.next() };
  }

  private identity: { nodeId: string; secretKey: Uint8Array } | null = null;

  /** Send a changed (or revoked) contract, as `aria-agent consent set|revoke` makes a running agent do. */
  sendConsent(contract: Partial<ConsentContract>, issuedAt = Date.now()): void {
    if (!this.identity) throw new Error("log in first");
    const signed = signConsent({ ...DEFAULT_CONTRACT, ...contract }, this.identity.nodeId, this.identity.secretKey, issuedAt);
    this.send({ type: "consent", consent: signed });
  }
}
