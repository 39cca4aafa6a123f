/**
 * Pipeline parallelism end to end: wrangler dev (workerd) + real Bun agents holding layer
 * shards + the openai client. A split model must produce exactly what one machine produces,
 * also when a stage's agent is SIGKILLed mid-stream, and under concurrent clients.
 */
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, afterEach, beforeAll, describe, expect, test } from "vitest";
import { footprintOf } from "../../agent/src/model/footprint.ts";
import { readGgufHeaderFile } from "../../agent/src/model/gguf-file.ts";
import { makeLedgerKey } from "../../scripts/ledger-key.mjs";
import {
  freePort,
  ROOT,
  signalGroup,
  startAgent,
  startCoordinator,
  stopGroup,
  waitFor,
  waitForModel,
} from "../../scripts/local-network.mjs";
import { singleMachineChat } from "../support/single-machine.ts";

const MODEL = "aria-tiny-random";
let dir: string;
let apiKey: string;
let coordinator: { url: string; child: ChildProcess };
let client: OpenAI;
let modelPath: string;
const agents: { child: ChildProcess; lines: string[] }[] = [];

function agent(name: string, layers: string): { child: ChildProcess; lines: string[] } {
  const lines: string[] = [];
  const child = startAgent({
    coordinator: coordinator.url,
    model: MODEL,
    configDir: join(dir, name),
    cacheDir: join(dir, "cache"),
    extraArgs: ["--layers", layers, "--max-sessions", "8"],
    onLine: (l) => lines.push(l),
  });
  const a = { child, lines };
  agents.push(a);
  return a;
}

async function waitForAgents(n: number) {
  await waitFor(`${n} agents connected`, () => agents.filter((a) => a.lines.some((l) => l.includes("connected to"))).length >= n, {
    timeoutMs: 60_000,
  });
  await waitForModel(coordinator.url, apiKey, MODEL);
}

/** The agent among `candidates` that logged a session for this stage (its stderr may lag the stream). */
async function servingAgent(
  candidates: { child: ChildProcess; lines: string[] }[],
  stage: RegExp,
): Promise<{ child: ChildProcess; lines: string[] }> {
  // waitFor resolves only with a truthy value, so the result is always an agent.
  return (await waitFor("the serving agent's session log line", () => candidates.find((a) => a.lines.some((l) => stage.test(l))), {
    timeoutMs: 10_000,
  }))!;
}

async function stopAgents() {
  await Promise.all(agents.splice(0).map((a) => stopGroup(a.child)));
  await waitFor("the model to be unlisted", async () => (await client.models.list()).data.length === 0, { timeoutMs: 30_000 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-pipeline-"));
  apiKey = `test-${randomBytes(8).toString("hex")}`;
  coordinator = await startCoordinator({
    port: await freePort(),
    persistDir: join(dir, "wrangler"),
    apiKey,
    ledgerKey: makeLedgerKey("aria.e2e/pipeline").skey,
  });
  client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey, maxRetries: 0 });
  modelPath = join(dir, "cache", "models", `${MODEL}.gguf`);
});

afterEach(stopAgents);

afterAll(async () => {
  await Promise.all(agents.map((a) => stopGroup(a.child)));
  await stopGroup(coordinator?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("a model split across agents", () => {
  test("3 agents splitting the layers produce exactly one machine's output", async () => {
    agent("a1", "1/3");
    agent("a2", "2/3");
    agent("a3", "3/3");
    await waitForAgents(3);
    const text = "Pipelines split the model by layers.";
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: text }],
      max_tokens: 40,
      temperature: 0,
    });
    const expected = await singleMachineChat(modelPath, text, 40);
    expect(expected.length).toBeGreaterThan(0);
    expect(res.choices[0]?.message.content).toBe(expected);
    // Every agent ran a stage of it.
    for (const a of agents) expect(a.lines.some((l) => /session \d+: stage \d\/3/.test(l))).toBe(true);
  });

  test("each of 3 agents holds about a third of a whole agent's layer memory (the library's own counts)", async () => {
    const names = ["m1", "m2", "m3", "whole"];
    agent("m1", "1/3");
    agent("m2", "2/3");
    agent("m3", "3/3");
    agent("whole", "0-5");
    await waitForAgents(4);
    const held = async (name: string) =>
      waitFor(`${name}'s status file`, () => {
        try {
          const s = JSON.parse(readFileSync(join(dir, name, "status.json"), "utf8")) as { model_bytes?: number };
          return s.model_bytes && s.model_bytes > 0 ? s.model_bytes : null;
        } catch {
          return null;
        }
      });
    const [first, middle, last, whole] = await Promise.all(names.map(held));
    // What the ends hold, from the header: the embedding (first stage) and norm + Q8_0 head (last).
    const fp = footprintOf((await readGgufHeaderFile(modelPath)).file, "q8_0");
    const ends = fp.embeddingBytes + fp.outputNormBytes + fp.headBytes;
    const wholeLayers = whole! - ends;
    const thirds = [first! - fp.embeddingBytes, middle!, last! - fp.outputNormBytes - fp.headBytes];
    console.log(
      `pipeline: whole agent ${whole} B (${wholeLayers} B of layers); thirds hold ${[first, middle, last].join(", ")} B = ` +
        `${thirds.map((t) => ((100 * t) / wholeLayers).toFixed(1)).join(" %, ")} % of its layer memory`,
    );
    // A third of the layers each, plus the library's small per-model tables (~5 KB).
    for (const t of thirds) {
      expect(t / wholeLayers).toBeGreaterThan(0.33);
      expect(t / wholeLayers).toBeLessThan(0.34);
    }
  });

  test("SIGKILL of a replicated stage's agent mid-stream: the stream completes with one machine's output", async () => {
    agent("b1", "1/3");
    const replicas = [agent("b2", "2/3"), agent("b2-replica", "2/3")];
    agent("b3", "3/3");
    await waitForAgents(4);
    const text = "Keep going even if a node dies.";
    const maxTokens = 200;
    const expected = await singleMachineChat(modelPath, text, maxTokens);
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: text }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
    });
    let content = "";
    let chunks = 0;
    let killed: (typeof replicas)[number] | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? "";
      if (++chunks === 8) {
        killed = await servingAgent(replicas, /session \d+: stage 2\/3/);
        signalGroup(killed.child, "SIGKILL");
      }
    }
    expect(killed).toBeDefined();
    expect(content).toBe(expected);
    const survivor = replicas.find((r) => r !== killed)!;
    expect(survivor.lines.some((l) => /stage 2\/3, layers 2-3, \d+ tokens to replay/.test(l))).toBe(true);
  });

  test("consent revoke --now on a replicated stage mid-stream: the stream completes on the other replica", async () => {
    agent("r1", "1/2");
    const replicas = [agent("r2", "2/2"), agent("r2-replica", "2/2")];
    await waitForAgents(3);
    const text = "The owner changes their mind.";
    // Long enough that the revocation (a CLI run, then the agent's next look at its file) lands mid-stream.
    const maxTokens = 800;
    const expected = await singleMachineChat(modelPath, text, maxTokens);
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: text }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
    });
    let content = "";
    let chunks = 0;
    let revoked: (typeof replicas)[number] | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? "";
      if (++chunks === 8) {
        revoked = await servingAgent(replicas, /session \d+: stage 2\/2/);
        const name = revoked === replicas[0] ? "r2" : "r2-replica";
        const cli = spawnSync(join(ROOT, "node_modules", ".bin", "bun"), [
          join(ROOT, "agent", "bin", "aria-agent.ts"),
          "consent",
          "revoke",
          "--now",
          "--config-dir",
          join(dir, name),
        ]);
        expect(cli.status).toBe(0);
      }
    }
    expect(revoked).toBeDefined();
    expect(content).toBe(expected);
    await waitFor("the revoking agent to log the change", () =>
      revoked!.lines.some((l) => l.includes("consent changed: revoked (open work stopped)")),
    );
    const other = replicas.find((r) => r !== revoked)!;
    expect(other.lines.some((l) => /stage 2\/2, layers 3-5, \d+ tokens to replay/.test(l))).toBe(true);
    // New requests go around the revoked agent.
    const after = await client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "again" }], max_tokens: 4 });
    expect(after.choices[0]?.finish_reason).toBeDefined();
  });

  test("8 concurrent streaming clients against a 2-stage pipeline all complete correctly", async () => {
    agent("c1", "1/2");
    agent("c2", "2/2");
    await waitForAgents(2);
    const prompts = Array.from({ length: 8 }, (_, i) => `Client number ${i} asks about ternary weights.`);
    const expected = await Promise.all(prompts.map((p) => singleMachineChat(modelPath, p, 24)));
    const outputs = await Promise.all(
      prompts.map(async (p) => {
        const stream = await client.chat.completions.create({
          model: MODEL,
          messages: [{ role: "user", content: p }],
          max_tokens: 24,
          temperature: 0,
          stream: true,
        });
        let content = "";
        for await (const chunk of stream) content += chunk.choices[0]?.delta?.content ?? "";
        return content;
      }),
    );
    expect(outputs).toEqual(expected);
  });

  test("SIGTERM drains an agent: its open stream completes, then it leaves and new requests use the other", async () => {
    const first = agent("d1", "all");
    await waitForAgents(1);
    const second = agent("d2", "all");
    await waitFor("the second agent", () => second.lines.some((l) => l.includes("connected to")), { timeoutMs: 60_000 });
    const text = "Drain me gently.";
    const expected = await singleMachineChat(modelPath, text, 120);
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: text }],
      max_tokens: 120,
      temperature: 0,
      stream: true,
    });
    let content = "";
    let chunks = 0;
    let drained: typeof first | undefined;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? "";
      if (++chunks === 4) {
        drained = await servingAgent([first, second], /session \d+: stage 1\/1/);
        signalGroup(drained.child, "SIGTERM");
      }
    }
    expect(content).toBe(expected);
    await waitFor("the drained agent to exit", () => drained!.child.exitCode !== null, { timeoutMs: 30_000 });
    expect(drained!.child.exitCode).toBe(0);
    const other = drained === first ? second : first;
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: text }],
      max_tokens: 8,
      temperature: 0,
    });
    expect(res.choices[0]?.message.content).toBe(await singleMachineChat(modelPath, text, 8));
    expect(other.lines.filter((l) => /session \d+: stage 1\/1/.test(l)).length).toBeGreaterThan(0);
  });
});
