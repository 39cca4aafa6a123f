import { env, SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { sha256OfTokens } from "../../../shared/crypto/hash.ts";
import { decodeBase64 } from "../../../shared/ledger/base64.ts";
import { openCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { leafHash } from "../../../shared/ledger/hash.ts";
import { signReceipt } from "../../../shared/ledger/receipt.ts";
import { verifyInclusion } from "../../../shared/ledger/tree-math.ts";
import { encodeFrame, FLAG_FINAL } from "../../../shared/protocol/frame.ts";
import { OUTPUT_HASH, ScriptedAgent } from "../../test/scripted-agent.ts";

const auth = { authorization: "Bearer test-key-1", "content-type": "application/json" };

function chat(body: unknown) {
  return SELF.fetch("http://coordinator.test/v1/chat/completions", { method: "POST", headers: auth, body: JSON.stringify(body) });
}

async function listModels(): Promise<string[]> {
  const res = await SELF.fetch("http://coordinator.test/v1/models", { headers: auth });
  return ((await res.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

interface LoggedEntry {
  index: number;
  entry: Record<string, unknown> & { stages: Record<string, unknown>[] };
  entry_bytes: string;
  leaf_hash: string;
  checkpoint: { size: number; root_hash: string; note: string };
  inclusion_proof: string[];
}

/** The log's entry for a request id, once it is in a signed checkpoint (sequencing takes up to ~1 s). */
async function loggedEntry(requestId: string): Promise<LoggedEntry> {
  for (let i = 0; i < 100; i++) {
    const res = await SELF.fetch(`http://coordinator.test/ledger/request/${requestId}`);
    if (res.status === 200) return (await res.json()) as LoggedEntry;
    await res.body?.cancel();
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`request ${requestId} never appeared in the log`);
}

/** Play a one-stage agent through tokenize → open → feed for a prompt of `prompt` ids. */
async function startOn(agent: ScriptedAgent, prompt: number[]) {
  const tokenize = await agent.expect("tokenize");
  agent.send({ type: "tokenized", session: tokenize.session, tokens: prompt });
  const open = await agent.expect("open");
  const feed = await agent.expect("feed");
  return { session: open.session, open, feed };
}

describe("agent login", () => {
  test("a valid signature logs in and the model is listed", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId, reply } = await agent.login("login-model");
    expect(reply).toMatchObject({ type: "welcome", nodeId });
    expect(await listModels()).toContain("login-model");
    const row = await env.DB.prepare("select id from nodes where id = ?").bind(nodeId).first();
    expect(row).toEqual({ id: nodeId });
    agent.ws.close();
  });

  test("a signature by another key is refused and the socket closed", async () => {
    const agent = await ScriptedAgent.connect();
    const { reply } = await agent.login("bad-sig-model", { signWith: new Uint8Array(32).fill(7) });
    expect(reply).toMatchObject({ type: "error", code: "bad_signature" });
    expect(await listModels()).not.toContain("bad-sig-model");
  });

  test("a malformed first message is refused", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.expect("challenge");
    agent.send({ type: "hello", protocol: "aria/1" });
    expect(await agent.next()).toMatchObject({ type: "error", code: "bad_message" });
  });

  test("a model is listed only while its layers are fully covered", async () => {
    const a = await ScriptedAgent.connect();
    await a.login("split-model", { layers: [0, 2] });
    expect(await listModels()).not.toContain("split-model");
    const res = await chat({ model: "split-model", messages: [{ role: "user", content: "hi" }] });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("missing layers 2-3");
    const b = await ScriptedAgent.connect();
    await b.login("split-model", { layers: [2, 4] });
    expect(await listModels()).toContain("split-model");
    a.ws.close();
    b.ws.close();
  });
});

describe("one stage", () => {
  test("tokens stream through; the log gets one entry with hashes, counts and the receipt, never text", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId, secretKey } = await agent.login("relay-model", { nCtx: 64 });
    const pending = chat({
      model: "relay-model",
      messages: [{ role: "user", content: "secret prompt text" }],
      max_tokens: 5,
      temperature: 0,
    });
    const tokenize = await agent.expect("tokenize");
    expect(tokenize.messages).toEqual([{ role: "user", content: "secret prompt text" }]);
    agent.send({ type: "tokenized", session: tokenize.session, tokens: [1, 2, 3] });
    const open = await agent.expect("open");
    expect(open).toMatchObject({
      stage: 0,
      stages: 1,
      layerBegin: 0,
      layerEnd: 4,
      nCtx: 8,
      params: { maxTokens: 5, temperature: 0 },
      history: [],
    });
    expect(typeof open.params.seed).toBe("number");
    expect(await agent.expect("feed")).toMatchObject({ session: open.session, pos0: 0, tokens: [1, 2, 3] });
    agent.send({ type: "sampled", session: open.session, index: 0, tokenId: 11, text: "Hel", finish: null, outputHash: OUTPUT_HASH });
    expect(await agent.expect("feed")).toMatchObject({ pos0: 3, tokens: [11] });
    agent.send({ type: "sampled", session: open.session, index: 1, tokenId: 12, text: "lo", finish: null, outputHash: OUTPUT_HASH });
    expect(await agent.expect("feed")).toMatchObject({ pos0: 4, tokens: [12] });
    agent.send({ type: "sampled", session: open.session, index: 2, tokenId: null, text: "!", finish: "stop", outputHash: OUTPUT_HASH });
    expect(await agent.expect("close")).toEqual({ type: "close", session: open.session });
    const receiptBody = {
      v: 1 as const,
      request_id: open.requestId,
      node: nodeId,
      model_sha256: "ab".repeat(32),
      layers: [0, 4] as [number, number],
      tokens: 5,
      frames_in: 3,
      frames_out: 3,
      input_chain: "01".repeat(32),
      output_chain: "02".repeat(32),
      cpu_ms: 1.5,
      energy_mj: 12.5,
      energy_method: "estimate" as const,
    };
    agent.send({ type: "receipt", session: open.session, receipt: signReceipt(receiptBody, secretKey) });
    const res = await pending;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; choices: { message: { content: string }; finish_reason: string }[]; usage: unknown };
    expect(body.choices[0]?.message.content).toBe("Hello!");
    expect(body.choices[0]?.finish_reason).toBe("stop");
    expect(body.usage).toEqual({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 });
    expect(open.requestId).toBe(body.id);
    const logged = await loggedEntry(body.id);
    expect(logged.entry).toMatchObject({
      type: "inference",
      request_id: body.id,
      model: { id: "relay-model", sha256: "ab".repeat(32) },
      stages: [{ attempt: 0, stage: 0, node: nodeId, layers: [0, 4], receipt: { body: receiptBody } }],
      prompt_tokens: 3,
      completion_tokens: 2,
      finish_reason: "stop",
      prompt_sha256: await sha256OfTokens([1, 2, 3]),
      output_sha256: await sha256OfTokens([11, 12]),
    });
    expect(logged.entry_bytes).not.toContain(btoa("secret"));
    expect(atob(logged.entry_bytes)).not.toContain("secret prompt");
    // The inclusion proof holds against the signed checkpoint, and the checkpoint's signature against the log key.
    const vkey = (await (await SELF.fetch("http://coordinator.test/ledger/vkey")).text()).trim();
    const opened = openCheckpoint(logged.checkpoint.note, vkey);
    expect(opened?.checkpoint.size).toBe(logged.checkpoint.size);
    const leaf = leafHash(decodeBase64(logged.entry_bytes)!);
    const proof = logged.inclusion_proof.map((h) => decodeBase64(h)!);
    expect(verifyInclusion(leaf, logged.index, opened!.checkpoint.size, proof, opened!.checkpoint.rootHash)).toBe(true);
    const count = await env.DB.prepare("select count(*) as n from log_entries where key = ?").bind(body.id).first();
    expect(count).toEqual({ n: 1 });
    agent.ws.close();
  });

  test("a prompt longer than the context is a 400 before anything streams", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("small-ctx-model", { nCtx: 4 });
    const pending = chat({ model: "small-ctx-model", messages: [{ role: "user", content: "long" }] });
    const tokenize = await agent.expect("tokenize");
    agent.send({ type: "tokenized", session: tokenize.session, tokens: [1, 2, 3, 4, 5] });
    const res = await pending;
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "context_length_exceeded" } });
    agent.ws.close();
  });

  test("stream: true relays each token as its own SSE chunk, then usage and [DONE]", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("stream-model");
    const pending = chat({
      model: "stream-model",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const { session } = await startOn(agent, [9, 9, 9]);
    const res = await pending;
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    // The role chunk arrives before any token exists: the stream is live, not buffered.
    expect((await reader.read()).value).toContain('"role":"assistant"');
    agent.send({ type: "sampled", session, index: 0, tokenId: 5, text: "a", finish: null, outputHash: OUTPUT_HASH });
    await agent.expect("feed");
    agent.send({ type: "sampled", session, index: 1, tokenId: 6, text: "b", finish: "length", outputHash: OUTPUT_HASH });
    let text = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      text += value;
    }
    const events = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => e.slice(6));
    expect(events.at(-1)).toBe("[DONE]");
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    expect(chunks.map((c) => c.choices[0]?.delta?.content).filter((c) => c)).toEqual(["a", "b"]);
    expect(chunks.find((c) => c.choices[0]?.finish_reason)?.choices[0].finish_reason).toBe("length");
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } });
    agent.ws.close();
  });

  test("the only agent disconnecting mid-request gives an error event and nothing logged", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("drop-model");
    const pending = chat({ model: "drop-model", messages: [{ role: "user", content: "hi" }] });
    const { session } = await startOn(agent, [1]);
    agent.send({ type: "sampled", session, index: 0, tokenId: 1, text: "x", finish: null, outputHash: OUTPUT_HASH });
    await agent.expect("feed");
    agent.ws.close(1001, "going away");
    const res = await pending;
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("no_route");
    await new Promise((r) => setTimeout(r, 1_500));
    const rows = await env.DB.prepare(
      "select (select count(*) from log_entries where entry like '%drop-model%') + (select count(*) from log_pending where entry like '%drop-model%') as n",
    ).first();
    expect(rows).toEqual({ n: 0 });
  });

  test("a model seen before but with no agent now is 503; a never-seen one is 404", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("gone-model");
    agent.ws.close();
    await new Promise((r) => setTimeout(r, 50));
    const gone = await chat({ model: "gone-model", messages: [{ role: "user", content: "hi" }] });
    expect(gone.status).toBe(503);
    expect(await gone.json()).toMatchObject({ error: { code: "no_agent", type: "service_unavailable" } });
    const unknown = await chat({ model: "never-model", messages: [{ role: "user", content: "hi" }] });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "model_not_found", param: "model" } });
  });
});

describe("pipelines", () => {
  test("two stages: frames are relayed unchanged and only the last stage samples", async () => {
    const first = await ScriptedAgent.connect();
    const { nodeId: firstId } = await first.login("pipe-model", { layers: [0, 2] });
    const last = await ScriptedAgent.connect();
    const { nodeId: lastId } = await last.login("pipe-model", { layers: [2, 4] });
    const pending = chat({ model: "pipe-model", messages: [{ role: "user", content: "hi" }], max_tokens: 1 });
    const tokenize = await first.expect("tokenize");
    first.send({ type: "tokenized", session: tokenize.session, tokens: [4, 5] });
    const open0 = await first.expect("open");
    expect(open0).toMatchObject({ stage: 0, stages: 2, layerBegin: 0, layerEnd: 2 });
    expect(await first.expect("feed")).toMatchObject({ tokens: [4, 5], pos0: 0 });
    const open1 = await last.expect("open");
    expect(open1).toMatchObject({ session: open0.session, stage: 1, stages: 2, layerBegin: 2, layerEnd: 4 });
    const frame = encodeFrame(
      { session: open0.session, fromStage: 0, flags: FLAG_FINAL, pos0: 0, rows: 2, width: 3 },
      Float32Array.from([1, 2, 3, 4, 5, 6]),
    );
    first.ws.send(frame);
    const relayed = await last.expectFrame();
    expect(relayed).toEqual(frame);
    last.send({ type: "sampled", session: open0.session, index: 0, tokenId: 7, text: "z", finish: "length", outputHash: OUTPUT_HASH });
    const res = await pending;
    const body = (await res.json()) as { id: string; choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("z");
    // Neither stage sent a receipt: each is logged against its node.
    const logged = await loggedEntry(body.id);
    expect(logged.entry.stages).toEqual([
      { attempt: 0, stage: 0, node: firstId, layers: [0, 2], receipt: null, receipt_problem: "missing" },
      { attempt: 0, stage: 1, node: lastId, layers: [2, 4], receipt: null, receipt_problem: "missing" },
    ]);
    first.ws.close();
    last.ws.close();
  });

  test("agents announcing one model id with different files never share a chain", async () => {
    const a = await ScriptedAgent.connect();
    await a.login("file-model", { layers: [0, 2], sha256: "aa".repeat(32) });
    const b = await ScriptedAgent.connect();
    await b.login("file-model", { layers: [2, 4], sha256: "bb".repeat(32) });
    expect(await listModels()).not.toContain("file-model");
    const refused = await chat({ model: "file-model", messages: [{ role: "user", content: "hi" }] });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ error: { code: "no_agent" } });
    const c = await ScriptedAgent.connect();
    await c.login("file-model", { layers: [2, 4], sha256: "aa".repeat(32) });
    expect(await listModels()).toContain("file-model");
    const pending = chat({ model: "file-model", messages: [{ role: "user", content: "hi" }], max_tokens: 1 });
    const tokenize = await a.expect("tokenize");
    a.send({ type: "tokenized", session: tokenize.session, tokens: [4] });
    await a.expect("open");
    const open1 = await c.expect("open");
    expect(open1).toMatchObject({ stage: 1, layerBegin: 2 });
    expect(b.queued()).toBe(0);
    c.send({ type: "sampled", session: open1.session, index: 0, tokenId: 5, text: "k", finish: "length", outputHash: OUTPUT_HASH });
    expect((await pending).status).toBe(200);
    a.ws.close();
    b.ws.close();
    c.ws.close();
  });

  test("failover: a replica takes over mid-stream with the history replayed; nothing is repeated or lost", async () => {
    const victim = await ScriptedAgent.connect();
    await victim.login("failover-model");
    const pending = chat({
      model: "failover-model",
      messages: [{ role: "user", content: "hi" }],
      max_tokens: 4,
      seed: 5,
      temperature: 0.7,
    });
    const tokenize = await victim.expect("tokenize");
    // The replica joins after the request was planned on the victim.
    const replica = await ScriptedAgent.connect();
    await replica.login("failover-model");
    victim.send({ type: "tokenized", session: tokenize.session, tokens: [1, 2] });
    const open = await victim.expect("open");
    await victim.expect("feed");
    victim.send({ type: "sampled", session: open.session, index: 0, tokenId: 30, text: "A", finish: null, outputHash: OUTPUT_HASH });
    await victim.expect("feed");
    victim.send({ type: "sampled", session: open.session, index: 1, tokenId: 31, text: "B", finish: null, outputHash: OUTPUT_HASH });
    await victim.expect("feed");
    victim.ws.close(1011, "killed");
    const reopen = await replica.expect("open");
    expect(reopen).toMatchObject({ history: [30, 31], params: { seed: 5, temperature: 0.7, maxTokens: 4 } });
    expect(reopen.session).not.toBe(open.session);
    expect(await replica.expect("feed")).toMatchObject({ pos0: 0, tokens: [1, 2, 30, 31] });
    // A late message from the dead attempt is ignored.
    replica.send({ type: "sampled", session: open.session, index: 2, tokenId: 99, text: "X", finish: null, outputHash: OUTPUT_HASH });
    replica.send({ type: "sampled", session: reopen.session, index: 2, tokenId: 32, text: "C", finish: null, outputHash: OUTPUT_HASH });
    await replica.expect("feed");
    replica.send({ type: "sampled", session: reopen.session, index: 3, tokenId: 33, text: "D", finish: "length", outputHash: OUTPUT_HASH });
    const res = await pending;
    const body = (await res.json()) as { choices: { message: { content: string } }[]; usage: { completion_tokens: number } };
    expect(body.choices[0]?.message.content).toBe("ABCD");
    expect(body.usage.completion_tokens).toBe(4);
    replica.ws.close();
  });
});
