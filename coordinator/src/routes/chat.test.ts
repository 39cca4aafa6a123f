import { SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";

const URL_ = "http://coordinator.test/v1/chat/completions";
const json = { "content-type": "application/json" };

async function post(body: string, headers: Record<string, string> = { ...json, authorization: "Bearer test-key-2" }) {
  const res = await SELF.fetch(URL_, { method: "POST", headers, body });
  return {
    status: res.status,
    body: (await res.json()) as { error: { type: string; code: string; message: string; param: string | null } },
  };
}

describe("POST /v1/chat/completions input errors", () => {
  test("401 without a key and with a wrong key", async () => {
    const missing = await post("{}", json);
    expect(missing.status).toBe(401);
    expect(missing.body.error).toMatchObject({ type: "authentication_error", code: "missing_api_key" });
    const wrong = await post("{}", { ...json, authorization: "Bearer nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error.code).toBe("invalid_api_key");
  });

  test("400 on malformed JSON", async () => {
    const r = await post("{not json");
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ type: "invalid_request_error", code: "invalid_json" });
  });

  test("400 naming a missing or invalid field", async () => {
    const noMessages = await post(JSON.stringify({ model: "m" }));
    expect(noMessages.status).toBe(400);
    expect(noMessages.body.error.param).toBe("messages");
    expect(noMessages.body.error.message).toContain("messages");
    const badTemp = await post(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], temperature: 9 }));
    expect(badTemp.status).toBe(400);
    expect(badTemp.body.error.param).toBe("temperature");
  });

  test("400 for what the server cannot honour rather than ignoring it", async () => {
    for (const [field, value, says] of [
      ["tools", [{ type: "function" }], "Tool calling"],
      [
        "response_format",
        { type: "json_schema", json_schema: { name: "t", schema: { type: "string", pattern: "a+" } } },
        "Unsupported JSON schema",
      ],
      ["metadata", { a: "b" }, "Stored completions"],
      ["logit_bias", { "5": 1000 }, "logit_bias"],
      ["made_up_field", 1, "Unsupported parameter: 'made_up_field'"],
    ] as const) {
      const res = await post(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], [field]: value }));
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe("invalid_request");
      expect(res.body.error.param?.startsWith(field)).toBe(true);
      expect(res.body.error.message).toContain(says);
    }
    const nested = await post(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x", audio: 1 }] }));
    expect(nested.body.error).toMatchObject({ code: "invalid_request", param: "messages.0.audio" });
    const tooMany = await post(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], n: 9 }));
    expect(tooMany.body.error).toMatchObject({ code: "invalid_request", param: "n" });
  });

  test("unknown routes answer in the OpenAI error format", async () => {
    const res = await SELF.fetch("http://coordinator.test/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: "not_found_error" } });
  });
});

describe("limits, CORS and model lookup", () => {
  test("a body over the limit is a 413 before it is parsed, declared or not", async () => {
    const big = JSON.stringify({ model: "m", messages: [{ role: "user", content: "x".repeat(4 * 2 ** 20 + 10) }] });
    const declared = await post(big);
    expect(declared.status).toBe(413);
    expect(declared.body.error).toMatchObject({ code: "request_too_large", type: "invalid_request_error" });
    // Streamed without a length: cut off as it crosses the limit.
    const chunks = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(new Uint8Array(2 ** 20).fill(32));
        controller.close();
      },
    });
    const res = await SELF.fetch(URL_, { method: "POST", headers: { ...json, authorization: "Bearer test-key-2" }, body: chunks });
    expect(res.status).toBe(413);
  });

  test("CORS: preflight answered with the allowed headers, responses carry the origin header", async () => {
    const pre = await SELF.fetch(URL_, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization,content-type",
      },
    });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("*");
    const allowed = pre.headers.get("access-control-allow-headers")!.split(",");
    expect(allowed).toEqual(expect.arrayContaining(["authorization", "content-type"]));
    const res = await SELF.fetch("http://coordinator.test/v1/models", {
      headers: { origin: "https://app.example", authorization: "Bearer test-key-2" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
  });

  test("GET /v1/models/{id}: 404 model_not_found for a model nobody serves", async () => {
    const res = await SELF.fetch("http://coordinator.test/v1/models/nobody-serves-this", {
      headers: { authorization: "Bearer test-key-2" },
    });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "model_not_found", param: "model" } });
  });

  test("completions: a prompt is required, and prompts × n is capped", async () => {
    const post2 = (body: unknown) =>
      SELF.fetch("http://coordinator.test/v1/completions", {
        method: "POST",
        headers: { ...json, authorization: "Bearer test-key-2" },
        body: JSON.stringify(body),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: { code: string; param: string } } }));
    expect((await post2({ model: "m" })).body.error).toMatchObject({ code: "invalid_request", param: "prompt" });
    expect((await post2({ model: "m", prompt: ["a", "b", "c"], n: 3 })).body.error).toMatchObject({ code: "invalid_request", param: "n" });
    expect((await post2({ model: "m", prompt: "a", echo: true })).body.error).toMatchObject({ code: "invalid_request", param: "echo" });
  });
});
