import { describe, expect, test } from "bun:test";
import { backoffDelay } from "./backoff.ts";
import { agentSocketUrl } from "./coordinator-url.ts";

describe("agentSocketUrl", () => {
  test("maps http(s) to ws(s) and appends the agent path once", () => {
    expect(agentSocketUrl("http://127.0.0.1:8787")).toBe("ws://127.0.0.1:8787/v1/agents/connect");
    expect(agentSocketUrl("https://aria.example/v1/")).toBe("wss://aria.example/v1/agents/connect");
    expect(agentSocketUrl("wss://aria.example/base")).toBe("wss://aria.example/base/v1/agents/connect");
  });

  test("rejects what is not a coordinator URL", () => {
    expect(() => agentSocketUrl("127.0.0.1:8787")).toThrow(/scheme|URL/);
    expect(() => agentSocketUrl("ftp://x")).toThrow(/scheme/);
  });
});

describe("backoffDelay", () => {
  test("grows exponentially, is jittered, and is capped", () => {
    const opts = { baseMs: 500, maxMs: 30_000 };
    expect(backoffDelay(0, opts, () => 0)).toBe(250);
    expect(backoffDelay(0, opts, () => 1)).toBe(500);
    expect(backoffDelay(3, opts, () => 1)).toBe(4000);
    expect(backoffDelay(20, opts, () => 1)).toBe(30_000);
    expect(backoffDelay(20, opts, () => 0.5)).toBeLessThan(30_000);
  });
});
