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
    const n2 = await post(JSON.stringify({ model: "m", messages: [{ role: "user", content: "x" }], n: 2 }));
    expect(n2.status).toBe(400);
    expect(n2.body.error.message).toContain("n=1");
  });

  test("unknown routes answer in the OpenAI error format", async () => {
    const res = await SELF.fetch("http://coordinator.test/v1/nothing-here");
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { type: "not_found_error" } });
  });
});
