/**
 * Consent contracts enforced by the coordinator (docs/consent.md), inside workerd with scripted
 * agents: it never routes outside a contract, says so with a 503 naming consent, logs grant,
 * change and revocation, and applies a revocation to new work at once (open work too with
 * "stop open work").
 */
import { env, SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { DAYS } from "../../../shared/consent/contract.ts";
import { OUTPUT_HASH, ScriptedAgent } from "../../test/scripted-agent.ts";

const auth = { authorization: "Bearer test-key-1", "content-type": "application/json" };

function chat(model: string, extra: Record<string, unknown> = {}) {
  return SELF.fetch("http://coordinator.test/v1/chat/completions", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 2, ...extra }),
  });
}

/** A UTC window that does not contain the current minute (it starts in two hours). */
function windowNotNow(): string {
  const h = (new Date().getUTCHours() + 2) % 24;
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${pad(h)}:00-${pad((h + 1) % 24)}:00`;
}

async function expectNoConsent(model: string, why: string) {
  const res = await chat(model);
  expect(res.status).toBe(503);
  const body = (await res.json()) as { error: { code: string; type: string; message: string } };
  expect(body.error).toMatchObject({ code: "no_consent", type: "service_unavailable" });
  expect(body.error.message).toContain("consent");
  expect(body.error.message).toContain(why);
}

/** Serve one request to completion on a one-stage scripted agent. */
async function serveOne(agent: ScriptedAgent) {
  const tokenize = await agent.expect("tokenize");
  agent.send({ type: "tokenized", session: tokenize.session, tokens: [1] });
  const open = await agent.expect("open");
  await agent.expect("feed");
  agent.send({ type: "sampled", session: open.session, index: 0, tokenId: 2, text: "y", finish: "length", outputHash: OUTPUT_HASH });
  await agent.expect("close");
  return open;
}

/** The key range of a node's consent entries: `consent/<node>/…` ("0" follows "/"). */
const consentKeys = (nodeId: string) => [`consent/${nodeId}/`, `consent/${nodeId}0`] as const;

async function loggedConsentEvents(nodeId: string): Promise<string[]> {
  for (let i = 0; i < 60; i++) {
    const { results } = await env.DB.prepare("SELECT entry FROM log_entries WHERE key > ? AND key < ? ORDER BY idx")
      .bind(...consentKeys(nodeId))
      .all<{
        entry: string;
      }>();
    const pending = await env.DB.prepare("SELECT count(*) AS n FROM log_pending WHERE key > ? AND key < ?")
      .bind(...consentKeys(nodeId))
      .first<{ n: number }>();
    if (pending?.n === 0 && results.length > 0) return results.map((r) => (JSON.parse(r.entry) as { event: string }).event);
    await new Promise((r) => setTimeout(r, 100));
  }
  return [];
}

describe("consent contracts, enforced by the coordinator", () => {
  test("schedule: outside every holder's window the client gets 503 no_consent; inside, a request is routed", async () => {
    const closed = await ScriptedAgent.connect();
    await closed.login("sched-model", { consent: { schedule: windowNotNow() } });
    await expectNoConsent("sched-model", "schedule");
    const open = await ScriptedAgent.connect();
    await open.login("sched-model", { consent: { schedule: ["00:00-24:00"] } });
    const pending = chat("sched-model");
    await serveOne(open);
    expect((await pending).status).toBe(200);
    closed.ws.close();
    open.ws.close();
  });

  test("days: a contract without today is never routed to today", async () => {
    const today = DAYS[new Date().getUTCDay()]!;
    const agent = await ScriptedAgent.connect();
    await agent.login("days-model", { consent: { days: DAYS.filter((d) => d !== today) } });
    await expectNoConsent("days-model", "schedule");
    agent.ws.close();
  });

  test("task_types: an agent that allows only completions is not given chats", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("task-model", { consent: { task_types: ["completion"] } });
    await expectNoConsent("task-model", "task type");
    agent.ws.close();
  });

  test("min_contribution_score: requesters below it (every API key has 0 today) are not served", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("score-model", { consent: { min_contribution_score: 1 } });
    await expectNoConsent("score-model", "contribution score");
    agent.ws.close();
  });

  test("max_concurrent_tasks caps the agent's sessions below what it announced", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("conc-model", { maxSessions: 4, consent: { max_concurrent_tasks: 1 } });
    const first = chat("conc-model");
    const tokenize = await agent.expect("tokenize");
    agent.send({ type: "tokenized", session: tokenize.session, tokens: [1] });
    const open = await agent.expect("open");
    await agent.expect("feed");
    const second = chat("conc-model");
    // Nothing reaches the agent for the second request while the first holds its only slot.
    await new Promise((r) => setTimeout(r, 400));
    expect(agent.queued()).toBe(0);
    agent.send({ type: "sampled", session: open.session, index: 0, tokenId: 2, text: "y", finish: "length", outputHash: OUTPUT_HASH });
    await agent.expect("close");
    expect((await first).status).toBe(200);
    await serveOne(agent);
    expect((await second).status).toBe(200);
    agent.ws.close();
  });

  test("max_ram_mb: layers needing more memory than the contract allows are refused at login", async () => {
    const agent = await ScriptedAgent.connect();
    const { reply } = await agent.login("ram-model", { heldBytes: 300 * 2 ** 20, consent: { max_ram_mb: 256 } });
    expect(reply).toMatchObject({ type: "error", code: "bad_consent" });
    expect((reply as { message: string }).message).toContain("max_ram_mb");
  });

  test("a contract signed by another key is refused", async () => {
    const agent = await ScriptedAgent.connect();
    const challenge = await agent.expect("challenge");
    const { publicKeyHex, randomSecretKey, signHex } = await import("../../../shared/crypto/ed25519.ts");
    const { signConsent } = await import("../../../shared/consent/signed-consent.ts");
    const { DEFAULT_CONTRACT } = await import("../../../shared/consent/contract.ts");
    const { authMessage, PROTOCOL_VERSION } = await import("../../../shared/protocol/messages.ts");
    const key = randomSecretKey();
    const nodeId = await publicKeyHex(key);
    const forged = signConsent(DEFAULT_CONTRACT, nodeId, randomSecretKey(), Date.now());
    agent.send({
      type: "hello",
      protocol: PROTOCOL_VERSION,
      agentVersion: "test",
      nodeId,
      signature: await signHex(authMessage(challenge.nonce), key),
      maxSessions: 1,
      models: [{ id: "forged-model", sha256: "ab".repeat(32), nLayers: 4, layerBegin: 0, layerEnd: 4, nCtx: 64, heldBytes: 1 }],
      consent: forged,
    });
    expect(await agent.next()).toMatchObject({ type: "error", code: "bad_consent" });
  });

  test("grant, change and revocation are logged; revocation stops new work at once and open work finishes", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId } = await agent.login("revoke-model", { consent: { cpu_percent: 40, max_bandwidth_mbps: 8, allow_logging: false } });
    agent.sendConsent({ cpu_percent: 30 });
    const pending = chat("revoke-model");
    const tokenize = await agent.expect("tokenize");
    agent.send({ type: "tokenized", session: tokenize.session, tokens: [1] });
    const open = await agent.expect("open");
    await agent.expect("feed");
    agent.sendConsent({ revoked: true });
    await new Promise((r) => setTimeout(r, 100));
    await expectNoConsent("revoke-model", "revoked");
    // The open request was not stopped: it completes on the same agent.
    agent.send({ type: "sampled", session: open.session, index: 0, tokenId: 2, text: "y", finish: "length", outputHash: OUTPUT_HASH });
    await agent.expect("close");
    expect((await pending).status).toBe(200);
    expect(await loggedConsentEvents(nodeId)).toEqual(["grant", "change", "revoke"]);
    const stored = await env.DB.prepare("SELECT signed, revoked FROM consents WHERE node_id = ?")
      .bind(nodeId)
      .first<{ signed: string; revoked: number }>();
    expect(stored?.revoked).toBe(1);
    // What the agent enforces itself is stored and logged as its owner signed it.
    const first = await env.DB.prepare("SELECT entry FROM log_entries WHERE key > ? AND key < ? ORDER BY idx LIMIT 1")
      .bind(...consentKeys(nodeId))
      .first<{ entry: string }>();
    expect(JSON.parse(first!.entry).consent.body.contract).toMatchObject({ cpu_percent: 40, max_bandwidth_mbps: 8, allow_logging: false });
    agent.ws.close();
  });

  test("revocation with stop_open_work fails the agent's open requests over to another agent", async () => {
    const quitter = await ScriptedAgent.connect();
    await quitter.login("stop-model");
    const pending = chat("stop-model", { max_tokens: 3 });
    const tokenize = await quitter.expect("tokenize");
    const other = await ScriptedAgent.connect();
    await other.login("stop-model");
    quitter.send({ type: "tokenized", session: tokenize.session, tokens: [1, 2] });
    const open = await quitter.expect("open");
    await quitter.expect("feed");
    quitter.send({ type: "sampled", session: open.session, index: 0, tokenId: 7, text: "a", finish: null, outputHash: OUTPUT_HASH });
    await quitter.expect("feed");
    quitter.sendConsent({ revoked: true, stop_open_work: true });
    const reopen = await other.expect("open");
    expect(reopen.history).toEqual([7]);
    expect(await other.expect("feed")).toMatchObject({ tokens: [1, 2, 7] });
    other.send({ type: "sampled", session: reopen.session, index: 1, tokenId: 8, text: "b", finish: "length", outputHash: OUTPUT_HASH });
    const res = await pending;
    expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content).toBe("ab");
    quitter.ws.close();
    other.ws.close();
  });
});
