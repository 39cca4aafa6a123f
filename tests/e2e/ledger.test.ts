/**
 * The provenance log end to end: wrangler dev (workerd, local D1) + two real agents splitting the
 * built-in model + the openai client. Completed requests are logged once each with both stages'
 * signed receipts; the agents witness the log; `aria-agent ledger verify` checks it (and fails,
 * naming the entry, when the stored log is changed); a restart loses nothing; a witness refuses
 * a rewritten history.
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
import { fromHex } from "../../shared/crypto/hex.ts";
import { openCheckpoint } from "../../shared/ledger/checkpoint.ts";
import { verifyCosignature } from "../../shared/ledger/cosignature.ts";
import { goVerify } from "../interop/go-verify.ts";
import { localD1 } from "../support/local-d1.ts";

const MODEL = "aria-tiny-random";
const ledgerKey = makeLedgerKey("aria.e2e/ledger");

let dir: string;
let port: number;
let apiKey: string;
let coordinator: { url: string; child: ChildProcess };
const agents: { child: ChildProcess; lines: string[]; configDir: string }[] = [];
let client: OpenAI;
const coordinatorLines: string[] = [];

function startOneAgent(i: number, layers: string) {
  const lines: string[] = [];
  const configDir = join(dir, `agent-${i}`);
  const child = startAgent({
    coordinator: coordinator.url,
    model: MODEL,
    configDir,
    cacheDir: join(dir, "cache"),
    extraArgs: ["--layers", layers],
    onLine: (l) => lines.push(l),
  });
  agents.push({ child, lines, configDir });
}

const restartCoordinator = async () => {
  await stopGroup(coordinator.child);
  coordinator = await startCoordinator({
    port,
    persistDir: join(dir, "wrangler"),
    apiKey,
    ledgerKey: ledgerKey.skey,
    onLine: (l) => coordinatorLines.push(l),
  });
};

/** Run SQL on the coordinator's local D1. */
const d1 = (sql: string) => localD1(join(dir, "wrangler"), sql);

/** `aria-agent ledger verify` as a user runs it. */
function verifyCli(...extra: string[]) {
  const result = spawnSync(
    join(ROOT, "node_modules", ".bin", "bun"),
    [
      join(ROOT, "agent", "bin", "aria-agent.ts"),
      "ledger",
      "verify",
      "--coordinator",
      `${coordinator.url}/v1`,
      "--vkey",
      ledgerKey.vkey,
      "--config-dir",
      join(dir, "verifier"),
      ...extra,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

async function checkpoint() {
  // A pooled keep-alive socket may have been closed by the server while idle: one retry on a fresh one.
  const get = () => fetch(`${coordinator.url}/ledger/checkpoint`);
  const note = await (await get().catch(get)).text();
  const opened = openCheckpoint(note, ledgerKey.vkey);
  if (!opened) throw new Error(`the checkpoint does not verify:\n${note}`);
  return opened;
}

/** The root of the log's first `n` entries, from the leaves the JSON API serves (for an old-size check). */
async function rootOfFirst(n: number): Promise<string> {
  const { MerkleFrontier } = await import("../../shared/ledger/tree-math.ts");
  const frontier = new MerkleFrontier();
  for (let i = 0; i < n; i++) {
    const body = (await (await fetch(`${coordinator.url}/ledger/entry/${i}`)).json()) as { leaf_hash: string };
    frontier.append(new Uint8Array(Buffer.from(body.leaf_hash, "base64")));
  }
  return Buffer.from(frontier.root()).toString("base64");
}

const waitForSize = (size: number) => waitFor(`a checkpoint of size ${size}`, async () => (await checkpoint()).checkpoint.size >= size);

async function complete(content: string) {
  return client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content }], max_tokens: 6, temperature: 0 });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-ledger-"));
  port = await freePort();
  apiKey = `test-${randomBytes(8).toString("hex")}`;
  coordinator = await startCoordinator({
    port,
    persistDir: join(dir, "wrangler"),
    apiKey,
    ledgerKey: ledgerKey.skey,
    onLine: (l) => coordinatorLines.push(l),
  });
  startOneAgent(1, "1/2");
  startOneAgent(2, "2/2");
  await waitForModel(coordinator.url, apiKey, MODEL, { timeoutMs: 90_000 });
  client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey, maxRetries: 0 });
});

afterAll(async () => {
  if (process.env.ARIA_TEST_DEBUG) console.log(coordinatorLines.slice(-60).join("\n"));
  for (const a of agents) await stopGroup(a.child);
  await stopGroup(coordinator?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the provenance log", () => {
  const ids: string[] = [];

  test("completed requests appear once each, with both stages' signed receipts and no text", async () => {
    for (const text of ["first secret words", "second", "third"]) ids.push((await complete(text)).id);
    const stream = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "fourth" }],
      max_tokens: 4,
      stream: true,
    });
    let streamId = "";
    for await (const chunk of stream) streamId = chunk.id;
    ids.push(streamId);
    for (const id of ids) {
      const res = await waitFor(`request ${id} in the log`, async () => {
        const r = await fetch(`${coordinator.url}/ledger/request/${id}`);
        if (r.status === 200) return r;
        await r.body?.cancel();
        return null;
      });
      const logged = (await res.json()) as {
        entry: { request_id: string; stages: { node: string; receipt: unknown }[] };
        entry_bytes: string;
      };
      expect(logged.entry.request_id).toBe(id);
      expect(logged.entry.stages).toHaveLength(2);
      for (const stage of logged.entry.stages) expect(stage.receipt).not.toBeNull();
      expect(Buffer.from(logged.entry_bytes, "base64").toString()).not.toContain("secret");
    }
    const keys = d1("SELECT key FROM log_entries").map((r) => r.key);
    expect(keys.filter((k) => ids.includes(k as string))).toHaveLength(ids.length);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test("each stage attests its energy in its signed receipt; /v1/energy's sums equal the ledger's", async () => {
    const rows = d1("SELECT entry FROM log_entries WHERE type = 'inference'").map((r) => JSON.parse(r.entry as string));
    let mj = 0;
    let tokens = 0;
    for (const entry of rows) {
      tokens += entry.prompt_tokens + entry.completion_tokens;
      for (const stage of entry.stages) {
        expect(stage.receipt.body).toMatchObject({ energy_method: expect.stringMatching(/^(rapl|estimate)$/) });
        expect(stage.receipt.body.energy_mj).toBeGreaterThanOrEqual(0);
        mj += stage.receipt.body.energy_mj;
      }
    }
    // CPU time is accounted in ticks, so one short stage may attest 0; four requests' worth may not.
    expect(mj).toBeGreaterThan(0);
    const res = await fetch(`${coordinator.url}/v1/energy`, { headers: { authorization: `Bearer ${apiKey}` } });
    const report = (await res.json()) as { overall: { energy_mj: number; tokens: number; grade: string }; nodes: unknown[] };
    expect(report.overall.energy_mj).toBeCloseTo(mj, 2);
    expect(report.overall.tokens).toBe(tokens);
    expect(report.nodes).toHaveLength(2);
  });

  test("aria-agent ledger verify checks the signature, the whole tree, every entry and receipt", () => {
    const first = verifyCli();
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^ok: aria\.e2e\/ledger size \d+ root \S+; \d+ entries checked/m);
    const one = verifyCli("--request", ids[0]!);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain("1 entries checked");
  });

  test("Go's sumdb note and tlog packages verify the same log: signature, tiles, every entry, consistency", async () => {
    const before = (await checkpoint()).checkpoint;
    const go = await goVerify(coordinator.url, ledgerKey.vkey);
    expect(go.stderr).toBe("");
    expect(go.code).toBe(0);
    expect(go.stdout).toMatch(new RegExp(`^ok: aria\\.e2e/ledger size ${before.size} root \\S+, ${before.size} entries checked`, "m"));
    const withOld = await goVerify(coordinator.url, ledgerKey.vkey, { size: 1, rootB64: await rootOfFirst(1) });
    expect(withOld.code).toBe(0);
  });

  test("the served checkpoint carries both agents' cosignatures, and they verify", async () => {
    const nodeIds = () => agents.map((a) => a.lines.find((l) => l.includes("as node"))).filter(Boolean);
    expect(nodeIds()).toHaveLength(2);
    const opened = await waitFor("two cosignatures", async () => {
      const cp = await checkpoint();
      return cp.note.signatures.filter((s) => s.name.startsWith("aria-node/")).length >= 2 ? cp : null;
    });
    for (const sig of opened.note.signatures.filter((s) => s.name.startsWith("aria-node/"))) {
      const node = sig.name.slice("aria-node/".length);
      expect(verifyCosignature(sig, opened.note.text, sig.name, fromHex(node))).not.toBeNull();
    }
  });

  test("a coordinator restart loses nothing; the new checkpoint is consistent with the old", async () => {
    const before = (await checkpoint()).checkpoint;
    await restartCoordinator();
    await waitForModel(coordinator.url, apiKey, MODEL, { timeoutMs: 45_000 });
    const after = await checkpoint();
    expect(after.checkpoint.size).toBe(before.size);
    expect(Buffer.from(after.checkpoint.rootHash).equals(Buffer.from(before.rootHash))).toBe(true);
    ids.push((await complete("after the restart")).id);
    await waitForSize(before.size + 1);
    const verified = verifyCli();
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`consistent with size ${before.size} seen before`);
    expect(verified.stdout).toContain("1 entries checked");
  });

  test("changing one stored entry, or one stored hash, makes ledger verify fail and name it", async () => {
    // The first inference entry (the agents' consent grants come before it).
    const [row] = d1("SELECT idx, entry FROM log_entries WHERE type = 'inference' ORDER BY idx LIMIT 1");
    const idx = row!.idx as number;
    const original = row!.entry as string;
    d1(`UPDATE log_entries SET entry = replace(entry, '"completion_tokens":', '"completion_tokens":1') WHERE idx = ${idx}`);
    const entryChanged = verifyCli("--all");
    expect(entryChanged.code).toBe(1);
    expect(entryChanged.stdout).toMatch(
      new RegExp(`^FAIL entry ${idx} \\(size \\d+\\): its bytes hash to leaf \\S+, the tree holds \\S+$`, "m"),
    );
    const goSays = await goVerify(coordinator.url, ledgerKey.vkey);
    expect(goSays.code).toBe(1);
    expect(goSays.stdout + goSays.stderr).toMatch(new RegExp(`entry ${idx}, size \\d+`));
    d1(`UPDATE log_entries SET entry = '${original.replaceAll("'", "''")}' WHERE idx = ${idx}`);
    expect(verifyCli("--all").code).toBe(0);

    const [leaf] = d1("SELECT hash FROM log_nodes WHERE level = 0 AND idx = 2");
    d1(`UPDATE log_nodes SET hash = '${"00".repeat(32)}' WHERE level = 0 AND idx = 2`);
    const hashChanged = verifyCli("--all");
    expect(hashChanged.code).toBe(1);
    expect(hashChanged.stdout).toMatch(/^FAIL size \d+: the tree recomputed from the tiles has root \S+, the checkpoint says \S+$/m);
    expect(hashChanged.stdout).toMatch(/^FAIL entry 2 \(size \d+\): its bytes hash to leaf/m);
    d1(`UPDATE log_nodes SET hash = '${leaf!.hash}' WHERE level = 0 AND idx = 2`);
    expect(verifyCli("--all").code).toBe(0);
  });

  test("a witness refuses a checkpoint inconsistent with one it cosigned (a rewritten history)", async () => {
    const cosigned = (await checkpoint()).checkpoint.size;
    // The operator rewrites the log: everything goes, and a different history of more entries is built.
    await stopGroup(coordinator.child);
    d1(
      "DELETE FROM log_entries; DELETE FROM log_nodes; DELETE FROM log_checkpoints; DELETE FROM log_cosignatures; DELETE FROM log_pending",
    );
    await restartCoordinator();
    await waitForModel(coordinator.url, apiKey, MODEL, { timeoutMs: 45_000 });
    for (let i = 0; i <= cosigned; i++) await complete(`rewritten ${i}`);
    await waitForSize(cosigned + 1);
    await waitFor("both witnesses to refuse", () =>
      agents.every((a) => a.lines.some((l) => /witness: refused to cosign checkpoint \d+ \((bad_proof|rollback|conflict)\)/.test(l))),
    );
    const refusals = agents.flatMap((a) => a.lines.filter((l) => l.includes("refused to cosign")));
    expect(refusals.some((l) => l.includes("bad_proof") || l.includes("rollback"))).toBe(true);
    const served = await checkpoint();
    expect(served.note.signatures.filter((s) => s.name.startsWith("aria-node/"))).toHaveLength(0);
    // And a verifier that saw the old history says so.
    const verified = verifyCli();
    expect(verified.code).toBe(1);
    expect(verified.stdout).toMatch(/^FAIL size \d+: not consistent with size \d+ seen before/m);
  });
});
