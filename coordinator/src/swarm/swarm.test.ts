import { env, SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { ScriptedAgent } from "../../test/scripted-agent.ts";

const auth = { authorization: "Bearer test-key-1", "content-type": "application/json" };

function chat(body: unknown) {
  return SELF.fetch("http://coordinator.test/v1/chat/completions", { method: "POST", headers: auth, body: JSON.stringify(body) });
}

describe("agent login", () => {
  test("a valid signature logs in and the model is listed", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId, reply } = await agent.login("login-model");
    expect(reply).toMatchObject({ type: "welcome", nodeId });
    const models = (await (await SELF.fetch("http://coordinator.test/v1/models", { headers: auth })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).toContain("login-model");
    const row = await env.DB.prepare("select id from nodes where id = ?").bind(nodeId).first();
    expect(row).toEqual({ id: nodeId });
    agent.ws.close();
  });

  test("a signature by another key is refused and the socket closed", async () => {
    const agent = await ScriptedAgent.connect();
    const { reply } = await agent.login("bad-sig-model", { signWith: new Uint8Array(32).fill(7) });
    expect(reply).toMatchObject({ type: "error", code: "bad_signature" });
    const models = (await (await SELF.fetch("http://coordinator.test/v1/models", { headers: auth })).json()) as { data: { id: string }[] };
    expect(models.data.map((m) => m.id)).not.toContain("bad-sig-model");
  });

  test("a malformed first message is refused", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.next(); // challenge
    agent.send({ type: "hello", protocol: "aria/1" });
    expect(await agent.next()).toMatchObject({ type: "error", code: "bad_message" });
  });
});

describe("relaying a completion", () => {
  test("tokens stream through, the ledger gets one row with hashes and counts only", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId } = await agent.login("relay-model");
    const pending = chat({
      model: "relay-model",
      messages: [{ role: "user", content: "secret prompt text" }],
      max_tokens: 5,
      temperature: 0,
    });
    const generate = await agent.next();
    expect(generate).toMatchObject({ type: "generate", model: "relay-model", params: { maxTokens: 5, temperature: 0, stop: [] } });
    if (generate.type !== "generate") throw new Error("expected generate");
    const requestId = generate.requestId;
    agent.send({ type: "token", requestId, index: 0, tokenId: 11, text: "Hel" });
    agent.send({ type: "token", requestId, index: 1, tokenId: 12, text: "lo" });
    const hash = "cd".repeat(32);
    agent.send({
      type: "done",
      requestId,
      finishReason: "stop",
      tail: "!",
      promptTokens: 7,
      completionTokens: 2,
      promptSha256: hash,
      outputSha256: hash,
    });
    const res = await pending;
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; choices: { message: { content: string }; finish_reason: string }[]; usage: unknown };
    expect(body.id).toBe(requestId);
    expect(body.choices[0]?.message.content).toBe("Hello!");
    expect(body.choices[0]?.finish_reason).toBe("stop");
    expect(body.usage).toEqual({ prompt_tokens: 7, completion_tokens: 2, total_tokens: 9 });
    const row = await env.DB.prepare("select * from ledger where request_id = ?").bind(requestId).first();
    expect(row).toMatchObject({
      model_id: "relay-model",
      node_ids: JSON.stringify([nodeId]),
      prompt_tokens: 7,
      completion_tokens: 2,
      finish_reason: "stop",
    });
    expect(JSON.stringify(row)).not.toContain("secret prompt");
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
    const generate = await agent.next();
    if (generate.type !== "generate") throw new Error("expected generate");
    const res = await pending;
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    // The role chunk arrives before any token exists: the stream is live, not buffered.
    expect((await reader.read()).value).toContain('"role":"assistant"');
    const { requestId } = generate;
    agent.send({ type: "token", requestId, index: 0, tokenId: 5, text: "a" });
    agent.send({ type: "token", requestId, index: 1, tokenId: 6, text: "b" });
    agent.send({
      type: "done",
      requestId,
      finishReason: "length",
      tail: "",
      promptTokens: 3,
      completionTokens: 2,
      promptSha256: "00".repeat(32),
      outputSha256: "11".repeat(32),
    });
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

  test("an agent that disconnects mid-request gives an error and no ledger row", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("drop-model");
    const pending = chat({ model: "drop-model", messages: [{ role: "user", content: "hi" }] });
    const generate = await agent.next();
    if (generate.type !== "generate") throw new Error("expected generate");
    agent.send({ type: "token", requestId: generate.requestId, index: 0, tokenId: 1, text: "x" });
    agent.ws.close(1001, "going away");
    const res = await pending;
    expect(res.status).toBe(502);
    expect(await res.json()).toMatchObject({ error: { code: "agent_lost" } });
    const row = await env.DB.prepare("select count(*) as n from ledger where request_id = ?").bind(generate.requestId).first();
    expect(row).toEqual({ n: 0 });
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
