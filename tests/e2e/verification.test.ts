/**
 * Proof of Useful Work end to end (docs/verification.md): wrangler dev + real Bun agents with
 * real kernels. An agent whose kernels return perturbed activations (a library this test builds
 * around the real one, loaded through ARIA_KERNELS_LIB) is excluded within 100 of its steps and
 * requests after that are served correctly; honest agents built by gcc and by clang agree bit for
 * bit and are never flagged over hundreds of requests.
 */
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { kernelLibraryPath } from "../../agent/src/kernels/library-path.ts";
import { makeLedgerKey } from "../../scripts/ledger-key.mjs";
import { freePort, ROOT, startAgent, startCoordinator, stopGroup, waitFor, waitForModel } from "../../scripts/local-network.mjs";
import { singleMachineChat } from "../support/single-machine.ts";

const MODEL = "aria-tiny-random";
let dir: string;
let apiKey: string;
const adminToken = `admin-${randomBytes(8).toString("hex")}`;
let coordinator: { url: string; child: ChildProcess };
let client: OpenAI;
const agents: { child: ChildProcess; lines: string[] }[] = [];

interface AgentRow {
  node_id: string;
  steps: number;
  verified_steps: number;
  credits: number;
  failed_checks: number;
  disputes: number;
  excluded: boolean;
  version: string | null;
}

/** What an agent of this checkout announces: its package version + libaria's numerics version. */
function expectedAgentVersion(): string {
  const pkg = JSON.parse(readFileSync(join(ROOT, "agent", "package.json"), "utf8")) as { version: string };
  const numerics = /#define ARIA_NUMERICS_VERSION (\d+)/.exec(readFileSync(join(ROOT, "kernels", "include", "aria.h"), "utf8"))?.[1];
  return `${pkg.version}+numerics.${numerics}`;
}

function run(command: string, args: string[]): void {
  const r = spawnSync(command, args, { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${r.stdout}\n${r.stderr}`);
}

/** Start an agent with all layers and the given kernels; resolves with its node id once connected. */
async function agent(name: string, kernels?: string): Promise<string> {
  const lines: string[] = [];
  const child = startAgent({
    coordinator: coordinator.url,
    model: MODEL,
    configDir: join(dir, name),
    cacheDir: join(dir, "cache"),
    extraArgs: ["--layers", "1/1", "--max-sessions", "8"],
    env: kernels ? { ARIA_KERNELS_LIB: kernels } : {},
    onLine: (l) => lines.push(l),
  });
  agents.push({ child, lines });
  const line = await waitFor(`agent ${name} connected`, () => lines.find((l) => l.includes("connected to")), {
    timeoutMs: 60_000,
    process: child,
  });
  // The log line names the node by the start of its key; the admin list has the whole key.
  const prefix = /as node ([0-9a-f]{16})/.exec(line)?.[1];
  const id = prefix && [...(await agentRows()).keys()].find((k) => k.startsWith(prefix));
  if (!id) throw new Error(`agent ${name}: no node id in '${line}'`);
  return id;
}

async function agentRows(): Promise<Map<string, AgentRow>> {
  const res = await fetch(`${coordinator.url}/v1/agents`, { headers: { authorization: `Bearer ${adminToken}` } });
  expect(res.status).toBe(200);
  return new Map(((await res.json()) as { data: AgentRow[] }).data.map((r) => [r.node_id, r]));
}

/** `n` requests, `parallel` at a time, each greedy; returns their texts. */
async function requests(n: number, parallel: number, prompt: (i: number) => string, maxTokens: number, stop?: () => boolean) {
  const texts: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n && !stop?.()) {
        const i = next++;
        const res = await client.chat.completions.create({
          model: MODEL,
          messages: [{ role: "user", content: prompt(i) }],
          max_tokens: maxTokens,
          temperature: 0,
        });
        texts[i] = res.choices[0]?.message.content ?? "";
      }
    }),
  );
  return texts;
}

/** Check entries naming a node, from the public log. */
async function checksNaming(nodeId: string): Promise<{ verdict: string; node: string; verifier: string }[]> {
  const out: { verdict: string; node: string; verifier: string }[] = [];
  const size = Number((await (await fetch(`${coordinator.url}/ledger/checkpoint`)).text()).split("\n")[1]);
  for (let i = 0; i < size; i++) {
    const res = await fetch(`${coordinator.url}/ledger/entry/${i}`);
    const { entry } = (await res.json()) as {
      entry: { type: string; verdict: string; node: string; verifier: string; arbiter: string | null };
    };
    if (entry.type === "check" && [entry.node, entry.verifier, entry.arbiter].includes(nodeId)) out.push(entry);
  }
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-verification-"));
  apiKey = `test-${randomBytes(8).toString("hex")}`;
  // The honest libraries: the default build (the system cc) and one built by clang at -O3.
  const gccLib = kernelLibraryPath(undefined);
  run("make", ["-s", "-C", "kernels", "CC=clang", "OPT=-O3", "BUILD=build/e2e-clang-O3", "lib"]);
  // The dishonest one: the real library with aria_shard_forward wrapped.
  run("cc", [
    "-shared",
    "-fPIC",
    "-O2",
    "-I",
    join(ROOT, "kernels", "include"),
    "-o",
    join(dir, "libaria-perturbed.so"),
    join(ROOT, "tests", "support", "perturbed-kernels.c"),
    `-L${dirname(gccLib)}`,
    "-laria",
    `-Wl,-rpath,${dirname(gccLib)}`,
    "-ldl",
    "-lm",
  ]);
  coordinator = await startCoordinator({
    port: await freePort(),
    persistDir: join(dir, "wrangler"),
    apiKey,
    adminToken,
    ledgerKey: makeLedgerKey("aria.e2e/verification").skey,
  });
  client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey, maxRetries: 0 });
});

afterAll(async () => {
  await Promise.all(agents.map((a) => stopGroup(a.child)));
  await stopGroup(coordinator?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Proof of Useful Work with real kernels", () => {
  let gcc: string;
  let clang: string;

  test("an agent with perturbed kernels is excluded within 100 of its steps; honest agents then serve one machine's output", async () => {
    gcc = await agent("honest-gcc");
    clang = await agent("honest-clang", join(ROOT, "kernels", "build", "e2e-clang-O3", "libaria.so"));
    const cheat = await agent("perturbed", join(dir, "libaria-perturbed.so"));
    await waitForModel(coordinator.url, apiKey, MODEL);
    let excluded = false;
    const watcher = setInterval(async () => {
      excluded = (await agentRows()).get(cheat)?.excluded ?? false;
    }, 200);
    try {
      await requests(
        60,
        3,
        (i) => `Request ${i} about bits.`,
        8,
        () => excluded,
      );
      await waitFor("the perturbed agent's exclusion", () => excluded, { timeoutMs: 30_000 });
    } finally {
      clearInterval(watcher);
    }
    const rows = await agentRows();
    const c = rows.get(cheat)!;
    expect(c.excluded).toBe(true);
    expect(c.failed_checks).toBeGreaterThanOrEqual(1);
    // Caught serving a step or re-executing an honest agent's (it may never have served one itself).
    expect(c.steps).toBeLessThanOrEqual(100);
    // The check that excluded it is in the log once the sequencer has published it (≤ a few seconds).
    const failedCheck = (k: { verdict: string; node: string; verifier: string }) =>
      (k.verdict === "node_failed" && k.node === cheat) || (k.verdict === "verifier_failed" && k.verifier === cheat);
    const caught = await waitFor(
      "the failed check in the published log",
      async () => {
        const found = (await checksNaming(cheat)).filter(failedCheck);
        return found.length > 0 ? found : null;
      },
      {
        timeoutMs: 15_000,
      },
    ).catch(() => []);
    expect(caught.length).toBeGreaterThanOrEqual(1);
    for (const id of [gcc, clang]) expect(rows.get(id)).toMatchObject({ excluded: false, failed_checks: 0 });
    // After the exclusion every request is computed by honest agents: exactly one machine's text.
    const prompt = "Verified work only.";
    const expected = await singleMachineChat(join(dir, "cache", "models", `${MODEL}.gguf`), prompt, 24);
    for (const text of await requests(4, 2, () => prompt, 24)) expect(text).toBe(expected);
  });

  test("honest agents built by gcc and by clang check each other over hundreds of requests and are never flagged", async () => {
    const before = await agentRows();
    await requests(240, 3, (i) => `Question ${i}: what is a ternary weight?`, 4);
    const rows = await waitFor(
      "both agents to have steps verified by the other",
      async () => {
        const r = await agentRows();
        const grown = [gcc, clang].every((id) => r.get(id)!.verified_steps > before.get(id)!.verified_steps);
        return grown ? r : null;
      },
      { timeoutMs: 60_000 },
    ).catch(async (err: unknown) => {
      console.error("verification: standings when the wait ended", JSON.stringify([...(await agentRows()).values()]));
      throw err;
    });
    for (const id of [gcc, clang]) {
      const r = rows.get(id)!;
      console.log(
        `verification: ${id.slice(0, 8)} served ${r.steps} steps, ${r.verified_steps} verified by the other, ${r.credits} credits`,
      );
    }
    // Both builds announce the same numerics version: work is re-executed only between such agents.
    for (const id of [gcc, clang])
      expect(rows.get(id)).toMatchObject({ excluded: false, failed_checks: 0, disputes: 0, version: expectedAgentVersion() });
    const checks = await checksNaming(gcc);
    expect(checks.filter((c) => [c.node, c.verifier].sort().join() === [gcc, clang].sort().join()).length).toBeGreaterThan(20);
    expect(checks.filter((c) => c.verdict !== "agree" && [c.node, c.verifier].every((n) => n === gcc || n === clang))).toEqual([]);
  });
});
