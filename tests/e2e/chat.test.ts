/**
 * End to end: the coordinator under wrangler dev (workerd, local D1), a real aria-agent process
 * running the native kernels, and the official openai client.
 */

import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeLedgerKey } from "../../scripts/ledger-key.mjs";
import { freePort, ROOT, startAgent, startCoordinator, stopGroup, waitFor, waitForModel } from "../../scripts/local-network.mjs";
import { type ExpectedCompletion, expectedGreedyCompletion } from "../support/expected-output.ts";

const MODEL = "aria-tiny-random";
const MESSAGES = [{ role: "user" as const, content: "Tell me something about ternary weights." }];
const MAX_TOKENS = 24;

let dir: string;
let port: number;
let apiKey: string;
let coordinator: { url: string; child: ChildProcess };
let agent: ChildProcess;
let client: OpenAI;
let expected: ExpectedCompletion;
const logs: string[] = [];
const collect = (line: string) => logs.push(line);

const ledgerKey = makeLedgerKey("aria.e2e/chat");

/** The sequenced log entries, parsed, in log order. */
function logEntries(): Record<string, unknown>[] {
  const result = spawnSync(
    join(ROOT, "node_modules", ".bin", "wrangler"),
    [
      "d1",
      "execute",
      "aria",
      "--local",
      "--persist-to",
      join(dir, "wrangler"),
      "--json",
      "--command",
      "SELECT entry FROM log_entries WHERE type = 'inference' ORDER BY idx",
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
  );
  if (result.status !== 0) throw new Error(`wrangler d1 execute failed: ${result.stderr}`);
  return (JSON.parse(result.stdout)[0].results as { entry: string }[]).map((r) => JSON.parse(r.entry));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-e2e-"));
  port = await freePort();
  apiKey = `test-${randomBytes(8).toString("hex")}`;
  coordinator = await startCoordinator({ port, persistDir: join(dir, "wrangler"), apiKey, ledgerKey: ledgerKey.skey, onLine: collect });
  agent = startAgent({
    coordinator: coordinator.url,
    model: MODEL,
    configDir: join(dir, "agent"),
    cacheDir: join(dir, "cache"),
    onLine: collect,
  });
  await waitForModel(coordinator.url, apiKey, MODEL, { process: agent });
  client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey, maxRetries: 0 });
  expected = await expectedGreedyCompletion(join(dir, "cache", "models", `${MODEL}.gguf`), { chat: MESSAGES }, MAX_TOKENS);
});

afterAll(async () => {
  await stopGroup(agent);
  await stopGroup(coordinator?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("one agent serving the built-in model", () => {
  test("/v1/models lists the model", async () => {
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toEqual([MODEL]);
  });

  test("a greedy completion equals the independent reference forward pass, with exact usage", async () => {
    const res = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: MAX_TOKENS, temperature: 0 });
    expect(expected.completionTokens).toBeGreaterThan(0);
    expect(res.choices[0]?.message.content).toBe(expected.content);
    expect(res.choices[0]?.finish_reason).toBe(expected.finishReason);
    expect(res.usage).toEqual({
      prompt_tokens: expected.promptTokens,
      completion_tokens: expected.completionTokens,
      total_tokens: expected.promptTokens + expected.completionTokens,
    });
  });

  test("streaming delivers the same text token by token, then usage and the end", async () => {
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: MESSAGES,
      max_tokens: MAX_TOKENS,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    });
    const pieces: string[] = [];
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice?.delta.content) pieces.push(choice.delta.content);
      if (choice?.finish_reason) finish = choice.finish_reason;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(pieces.join("")).toBe(expected.content);
    expect(pieces.length).toBeGreaterThan(1);
    expect(finish).toBe(expected.finishReason);
    expect(usage?.completion_tokens).toBe(expected.completionTokens);
  });

  test("sampling with a seed is reproducible and stop strings cut the output", async () => {
    const ask = () => client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: 16, temperature: 0.9, seed: 1234 });
    const [a, b] = [await ask(), await ask()];
    expect(a.choices[0]?.message.content).toBe(b.choices[0]?.message.content);
    const stopAt = expected.content.slice(3, 6);
    const cut = await client.chat.completions.create({
      model: MODEL,
      messages: MESSAGES,
      max_tokens: MAX_TOKENS,
      temperature: 0,
      stop: [stopAt],
    });
    expect(cut.choices[0]?.message.content).toBe(expected.content.slice(0, expected.content.indexOf(stopAt)));
    expect(cut.choices[0]?.finish_reason).toBe("stop");
  });

  test("API errors come back in the OpenAI format through the real stack", async () => {
    const bad = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey: "wrong", maxRetries: 0 });
    await expect(bad.chat.completions.create({ model: MODEL, messages: MESSAGES })).rejects.toMatchObject({
      status: 401,
      code: "invalid_api_key",
    });
    await expect(client.chat.completions.create({ model: "no-such-model", messages: MESSAGES })).rejects.toMatchObject({
      status: 404,
      code: "model_not_found",
    });
    const malformed = await fetch(`${coordinator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: '{"model": "x", "messages": [',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { type: "invalid_request_error", code: "invalid_json" } });
  });

  test("each completed request left one log entry with hashes, counts and a signed receipt, no text", async () => {
    // greedy, stream, two seeded, one with stop: five completed requests (sequenced within about a second).
    const rows = await waitFor("five sequenced entries", () => {
      const entries = logEntries();
      return entries.length >= 5 ? entries : null;
    });
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row).toMatchObject({ type: "inference", model: { id: MODEL }, prompt_tokens: expected.promptTokens });
      expect(row.prompt_sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(row.stages).toEqual([
        expect.objectContaining({ attempt: 0, stage: 0, receipt: expect.objectContaining({ signature: expect.any(String) }) }),
      ]);
    }
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(5);
    expect(rows[0]?.completion_tokens).toBe(expected.completionTokens);
    expect(rows[0]?.output_sha256).toBe(rows[1]?.output_sha256);
    expect(JSON.stringify(rows)).not.toContain("ternary");
  });

  test("the agent reconnects by itself when the coordinator restarts", async () => {
    await stopGroup(coordinator.child);
    coordinator = await startCoordinator({ port, persistDir: join(dir, "wrangler"), apiKey, ledgerKey: ledgerKey.skey, onLine: collect });
    await waitForModel(coordinator.url, apiKey, MODEL, { timeoutMs: 45_000, process: agent });
    const res = await client.chat.completions.create({ model: MODEL, messages: MESSAGES, max_tokens: MAX_TOKENS, temperature: 0 });
    expect(res.choices[0]?.message.content).toBe(expected.content);
    expect(logs.some((l) => l.includes("reconnecting in"))).toBe(true);
  });

  test("without an agent the known model answers 503", async () => {
    await stopGroup(agent);
    await waitFor("the agent to be gone", async () => (await client.models.list()).data.length === 0, { timeoutMs: 30_000 });
    await expect(client.chat.completions.create({ model: MODEL, messages: MESSAGES })).rejects.toMatchObject({
      status: 503,
      code: "no_agent",
    });
  });
});
