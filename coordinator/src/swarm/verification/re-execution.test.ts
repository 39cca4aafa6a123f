/**
 * Proof of Useful Work in the Swarm (docs/verification.md), with scripted agents that compute a
 * deterministic stand-in for their layers — honest ones all alike, a lying one differently — so
 * every verdict is exercised: agreement, a lying node, a lying verifier, a dispute without an
 * arbiter, and a checked middle stage whose frames are compared byte for byte.
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { toHex } from "../../../../shared/crypto/hex.ts";
import { signReceipt } from "../../../../shared/ledger/receipt.ts";
import { decodeFrame, encodeFrame, FLAG_FINAL } from "../../../../shared/protocol/frame.ts";
import { type OpenMessage, PING_FRAME } from "../../../../shared/protocol/messages.ts";
import { ScriptedAgent } from "../../../test/scripted-agent.ts";

const auth = { authorization: "Bearer test-key-1", "content-type": "application/json" };
const admin = { authorization: "Bearer test-admin-token" };
const WIDTH = 4;

interface Served {
  agent: ScriptedAgent;
  nodeId: string;
  secretKey: Uint8Array;
}

/**
 * An agent that answers the protocol by itself: stage 0 embeds tokens, every stage adds one per
 * layer to each value (a liar adds one more), the last stage hashes what it computed.
 */
/** `lie`: wrong from the first step, or (a number) honest until that step of each session, wrong after. */
async function servingAgent(
  model: string,
  layers: [number, number],
  lie: boolean | number = false,
  secretKey?: Uint8Array,
): Promise<Served> {
  const agent = await ScriptedAgent.connect();
  const login = await agent.login(model, { layers, maxSessions: 8, secretKey });
  // Heartbeats, as a real agent sends them: checks may take longer than the heartbeat timeout.
  const beat = setInterval(() => {
    if (agent.closed) clearInterval(beat);
    else agent.ws.send(PING_FRAME);
  }, 1_000);
  if (login.reply && !("binary" in login.reply) && login.reply.type !== "welcome") throw new Error(JSON.stringify(login.reply));
  const sessions = new Map<number, { open: OpenMessage; chosen: number; pending: string[]; steps: number }>();
  const lying = (steps: number) => (typeof lie === "number" ? steps >= lie : lie);
  const compute = (rows: Float32Array, s: { open: OpenMessage; steps: number }) =>
    rows.map((v) => v + (s.open.layerEnd - s.open.layerBegin) + (lying(s.steps) ? 1 : 0));
  const step = async (session: number, rows: Float32Array, pos0: number, n: number, final: boolean) => {
    const s = sessions.get(session);
    if (!s) return;
    const out = compute(rows, s);
    s.steps++;
    if (s.open.stage < s.open.stages - 1) {
      agent.ws.send(encodeFrame({ session, fromStage: s.open.stage, flags: final ? FLAG_FINAL : 0, pos0, rows: n, width: WIDTH }, out));
      return;
    }
    s.pending.push(Array.from(out).join(","));
    if (!final) return;
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(s.pending.join(";")));
    s.pending = [];
    const index = s.chosen++;
    const finish = index + 1 >= s.open.params.maxTokens ? "length" : null;
    agent.send({ type: "sampled", session, index, tokenId: 5, text: "x", finish, outputHash: toHex(new Uint8Array(digest)) });
  };
  void (async () => {
    for (;;) {
      const m = await agent.next();
      if ("binary" in m) {
        const f = decodeFrame(m.binary);
        await step(f.session, f.data, f.pos0, f.rows, (f.flags & FLAG_FINAL) !== 0);
        continue;
      }
      switch (m.type) {
        case "tokenize":
          agent.send({ type: "tokenized", session: m.session, tokens: [1, 2, 3] });
          break;
        case "open":
          sessions.set(m.session, { open: m, chosen: m.history.length, pending: [], steps: 0 });
          break;
        case "feed": {
          const rows = new Float32Array(m.tokens.length * WIDTH);
          m.tokens.forEach((t, i) => {
            rows.fill(t * 10 + m.pos0 + i, i * WIDTH, (i + 1) * WIDTH);
          });
          await step(m.session, rows, m.pos0, m.tokens.length, true);
          break;
        }
        case "close": {
          const s = sessions.get(m.session);
          sessions.delete(m.session);
          if (!s) break;
          const body = {
            v: 1 as const,
            request_id: s.open.requestId,
            node: login.nodeId,
            model_sha256: "ab".repeat(32),
            layers: [s.open.layerBegin, s.open.layerEnd] as [number, number],
            tokens: 1,
            frames_in: 1,
            frames_out: 1,
            input_chain: "01".repeat(32),
            output_chain: "02".repeat(32),
            cpu_ms: 1,
            energy_mj: 2,
            energy_method: "estimate" as const,
          };
          agent.send({ type: "receipt", session: m.session, receipt: signReceipt(body, login.secretKey) });
          break;
        }
      }
    }
  })();
  return { agent, nodeId: login.nodeId, secretKey: login.secretKey };
}

async function complete(model: string, maxTokens = 2) {
  const res = await SELF.fetch("http://coordinator.test/v1/chat/completions", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: maxTokens }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface AgentRow {
  node_id: string;
  steps: number;
  verified_steps: number;
  credits: number;
  failed_checks: number;
  disputes: number;
  checks_skipped: number;
  check_rate: number;
  excluded: boolean;
  connected: boolean;
}

async function agentRows(): Promise<Map<string, AgentRow>> {
  const res = await SELF.fetch("http://coordinator.test/v1/agents", { headers: admin });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: AgentRow[] };
  return new Map(body.data.map((r) => [r.node_id, r]));
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Logged entries of a type that name a node, once sequenced. */
async function loggedAbout(type: string, nodeId: string): Promise<Record<string, unknown>[]> {
  const rows = await env.DB.prepare("select entry from log_entries where type = ? and instr(entry, ?) > 0")
    .bind(type, nodeId)
    .all<{ entry: string }>();
  return rows.results.map((r) => JSON.parse(r.entry) as Record<string, unknown>);
}

describe("re-execution checks", () => {
  test("a new node's session is re-executed on another holder of the layers; agreement is logged and earns credits", async () => {
    const a = await servingAgent("pouw-agree", [0, 4]);
    const b = await servingAgent("pouw-agree", [0, 4]);
    expect((await complete("pouw-agree")).status).toBe(200);
    const rows = await until("both steps verified", async () => {
      const r = await agentRows();
      return (r.get(a.nodeId)!.verified_steps + r.get(b.nodeId)!.verified_steps === 2 && r) || null;
    });
    const [served, verifier] = rows.get(a.nodeId)!.verified_steps > 0 ? [a, b] : [b, a];
    // A new key has every step sampled: step 0 is checked at once, and at the session's end both
    // steps are replayed again — two steps verified (each once), the verifier credited 1 + 2.
    expect(rows.get(served.nodeId)).toMatchObject({ steps: 2, verified_steps: 2, credits: 2, failed_checks: 0, excluded: false });
    expect(rows.get(verifier.nodeId)).toMatchObject({ verified_steps: 0, credits: 3, failed_checks: 0 });
    const checks = await until("both check entries", async () => {
      const e = await loggedAbout("check", served.nodeId);
      return e.length === 2 && e;
    });
    checks.sort((x, y) => Number(x.steps) - Number(y.steps));
    checks.forEach((check, i) => {
      expect(check).toMatchObject({
        type: "check",
        node: served.nodeId,
        verifier: verifier.nodeId,
        arbiter: null,
        verdict: "agree",
        steps: i + 1,
      });
    });
    a.agent.ws.close();
    b.agent.ws.close();
  });

  test("a node returning wrong activations is excluded when two others agree against it, and stays excluded", async () => {
    const honest = [await servingAgent("pouw-liar", [0, 4]), await servingAgent("pouw-liar", [0, 4])];
    const liar = await servingAgent("pouw-liar", [0, 4], true);
    // Whether the liar serves a session or verifies an honest one, the arbiter sides with the honest.
    for (let i = 0; i < 30 && !liar.agent.closed; i++) expect((await complete("pouw-liar")).status).toBe(200);
    await until("the liar's socket closed", async () => liar.agent.closed);
    const rows = await agentRows();
    // Checks concluding together may each find it wrong: one exclusion, every failure counted.
    expect(rows.get(liar.nodeId)).toMatchObject({ excluded: true, connected: false });
    expect(rows.get(liar.nodeId)!.failed_checks).toBeGreaterThanOrEqual(1);
    expect(rows.get(liar.nodeId)!.steps).toBeLessThanOrEqual(100);
    for (const h of honest) expect(rows.get(h.nodeId)).toMatchObject({ excluded: false, failed_checks: 0 });
    const [exclusion] = await until("the exclusion entry", async () => {
      const e = await loggedAbout("exclusion", liar.nodeId);
      return e.length > 0 && e;
    });
    expect(exclusion).toMatchObject({ type: "exclusion", node: liar.nodeId });
    expect(await loggedAbout("exclusion", liar.nodeId)).toHaveLength(1);
    const checks = await loggedAbout("check", liar.nodeId);
    expect(checks.some((c) => ["node_failed", "verifier_failed"].includes(c.verdict as string))).toBe(true);
    // Requests now go to honest nodes only, and the key cannot log in again.
    expect((await complete("pouw-liar")).status).toBe(200);
    const again = await ScriptedAgent.connect();
    const { reply } = await again.login("pouw-liar", { secretKey: liar.secretKey });
    expect(reply).toMatchObject({ type: "error", code: "excluded" });
    for (const h of honest) h.agent.ws.close();
  });

  test("a node honest on its first step and wrong after it is caught when the session's later steps are checked", async () => {
    const honest = [await servingAgent("pouw-late-liar", [0, 4]), await servingAgent("pouw-late-liar", [0, 4])];
    const liar = await servingAgent("pouw-late-liar", [0, 4], 1);
    for (let i = 0; i < 60 && !liar.agent.closed; i++) expect((await complete("pouw-late-liar", 4)).status).toBe(200);
    await until("the late liar's socket closed", async () => liar.agent.closed, 30_000);
    const rows = await agentRows();
    expect(rows.get(liar.nodeId)!.excluded).toBe(true);
    for (const h of honest) {
      expect(rows.get(h.nodeId)).toMatchObject({ excluded: false, failed_checks: 0 });
      h.agent.ws.close();
    }
  }, 90_000);

  test("two nodes that disagree with no third to arbitrate: a dispute, nobody excluded, both checked every session", async () => {
    const a = await servingAgent("pouw-dispute", [0, 4]);
    const b = await servingAgent("pouw-dispute", [0, 4], true);
    expect((await complete("pouw-dispute")).status).toBe(200);
    // A dispute is declared only after no arbiter turned up for ARBITER_WAIT_MS.
    const rows = await until(
      "a dispute",
      async () => {
        const r = await agentRows();
        return r.get(a.nodeId)!.disputes > 0 && r;
      },
      30_000,
    );
    for (const n of [a, b]) {
      expect(rows.get(n.nodeId)).toMatchObject({ check_rate: 1, excluded: false, failed_checks: 0 });
      expect(rows.get(n.nodeId)!.disputes).toBeGreaterThanOrEqual(1);
    }
    const [check] = await until("the dispute entry", async () => {
      const e = await loggedAbout("check", a.nodeId);
      return e.length > 0 && e;
    });
    expect(check).toMatchObject({ verdict: "dispute", arbiter: null, mismatch_step: 0 });
    a.agent.ws.close();
    b.agent.ws.close();
  }, 60_000);

  test("a first stage's frames are re-executed and compared byte for byte; a stage no other node holds goes unchecked", async () => {
    const firsts = [await servingAgent("pouw-chain", [0, 2]), await servingAgent("pouw-chain", [0, 2])];
    const last = await servingAgent("pouw-chain", [2, 4]);
    expect((await complete("pouw-chain", 3)).status).toBe(200);
    const rows = await until("the first stage verified", async () => {
      const r = await agentRows();
      return firsts.some((f) => r.get(f.nodeId)!.verified_steps > 0) && r.get(last.nodeId)!.checks_skipped > 0 && r;
    });
    expect(rows.get(last.nodeId)).toMatchObject({ verified_steps: 0, failed_checks: 0 });
    for (const f of firsts) expect(rows.get(f.nodeId)!.failed_checks).toBe(0);
    for (const a of [...firsts, last]) a.agent.ws.close();
  });

  test("a lying first stage is caught from its frames", async () => {
    const honest = [await servingAgent("pouw-chain-liar", [0, 2]), await servingAgent("pouw-chain-liar", [0, 2])];
    const liar = await servingAgent("pouw-chain-liar", [0, 2], true);
    const last = await servingAgent("pouw-chain-liar", [2, 4]);
    for (let i = 0; i < 30 && !liar.agent.closed; i++) expect((await complete("pouw-chain-liar")).status).toBe(200);
    await until("the liar's exclusion", async () => liar.agent.closed);
    const rows = await agentRows();
    expect(rows.get(liar.nodeId)!.excluded).toBe(true);
    for (const a of [...honest, last]) {
      expect(rows.get(a.nodeId)!.excluded).toBe(false);
      a.agent.ws.close();
    }
  });
});

describe("GET /v1/agents", () => {
  test("needs the admin token: 401 without one, 403 with a wrong one or an API key", async () => {
    const none = await SELF.fetch("http://coordinator.test/v1/agents");
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ error: { code: "missing_admin_token", type: "authentication_error" } });
    for (const token of ["wrong", "test-key-1"]) {
      const res = await SELF.fetch("http://coordinator.test/v1/agents", { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(403);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_admin_token", type: "permission_error" } });
    }
  });

  test("lists a connected node with its model, consent and standing", async () => {
    const a = await servingAgent("pouw-list", [0, 4]);
    const res = await SELF.fetch("http://coordinator.test/v1/agents", { headers: admin });
    const body = (await res.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe("list");
    expect(body.data.find((r) => r.node_id === a.nodeId)).toMatchObject({
      connected: true,
      version: "test",
      models: [{ id: "pouw-list", sha256: "ab".repeat(32), layers: [0, 4], n_layers: 4 }],
      reputation: 0,
      check_rate: 1,
      credits: 0,
      verified_steps: 0,
      failed_checks: 0,
      excluded: false,
    });
    expect(String(body.data.find((r) => r.node_id === a.nodeId)!.consent)).toContain("% CPU");
    a.agent.ws.close();
  });
});
