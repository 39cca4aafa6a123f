/// <reference lib="dom" />
/**
 * The live dashboard and the admin ledger explorer in a real browser (Debian's chromium, driven by
 * playwright-core) against wrangler dev and real agents (docs/dashboard.md): a request shows up
 * live; 1,000 agents (a synthetic feed) stay readable on a phone-sized screen; an entry found by
 * its request id verifies in the page; a tampered one fails there and says why. Screenshots go to
 * docs/images/.
 */
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { makeLedgerKey } from "../../scripts/ledger-key.mjs";
import { freePort, ROOT, startAgent, startCoordinator, stopGroup, waitFor, waitForModel } from "../../scripts/local-network.mjs";
import { encodeBase64 } from "../../shared/ledger/base64.ts";
import { leafHash } from "../../shared/ledger/hash.ts";

const MODEL = "aria-tiny-random";
const SCREENSHOTS = join(ROOT, "docs", "images");
let dir: string;
let apiKey: string;
const adminToken = `admin-${randomBytes(8).toString("hex")}`;
let coordinator: { url: string; child: ChildProcess };
let client: OpenAI;
const agents: ChildProcess[] = [];
let browser: Browser;
let requestId: string;

/** Debian's chromium (apt-get install chromium), or CHROMIUM_PATH. */
function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser"].filter((p): p is string => !!p);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error("no chromium found: install it (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH");
  return found;
}

async function newPage(width = 1280, height = 900): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  page.on("pageerror", (err) => console.error(`page error: ${err.message}`));
  return page;
}

async function openExplorer(page: Page): Promise<void> {
  await page.goto(`${coordinator.url}/admin/ledger`, { timeout: 60_000 });
  await page.fill("#token", adminToken);
  await page.click("#login-form button[type=submit]");
  await page.waitForSelector("#explorer:not([hidden])");
}

/** Search by request id, open the newest hit, and wait for the page's verdict. */
async function verifyInPage(page: Page, id: string): Promise<{ result: string; checks: { name: string; ok: boolean; text: string }[] }> {
  await page.fill("#q-request", id);
  await page.click("#search button[type=submit]");
  await page.waitForSelector("#results tbody tr");
  await page.click("#results tbody tr:first-child");
  await page.waitForSelector("#checks[data-result]");
  const result = (await page.getAttribute("#checks", "data-result"))!;
  const checks = await page.$$eval("#checks li", (lis) =>
    lis.map((li) => ({ name: li.getAttribute("data-check") ?? "", ok: li.className === "pass", text: li.textContent ?? "" })),
  );
  return { result, checks };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-web-"));
  apiKey = `test-${randomBytes(8).toString("hex")}`;
  mkdirSync(SCREENSHOTS, { recursive: true });
  coordinator = await startCoordinator({
    port: await freePort(),
    persistDir: join(dir, "wrangler"),
    apiKey,
    adminToken,
    ledgerKey: makeLedgerKey("aria.e2e/web").skey,
  });
  client = new OpenAI({ baseURL: `${coordinator.url}/v1`, apiKey, maxRetries: 0 });
  for (const [name, layers] of [
    ["first", "1/2"],
    ["second", "2/2"],
  ]) {
    agents.push(
      startAgent({
        coordinator: coordinator.url,
        model: MODEL,
        configDir: join(dir, name!),
        cacheDir: join(dir, "cache"),
        extraArgs: ["--layers", layers!],
      }),
    );
  }
  await waitForModel(coordinator.url, apiKey, MODEL);
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ["--no-sandbox", "--disable-gpu"] });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all(agents.map((a) => stopGroup(a)));
  await stopGroup(coordinator?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the live dashboard", () => {
  test("shows the agents and coverage, and a request made now appears live in the log and the throughput", async () => {
    const page = await newPage();
    await page.goto(`${coordinator.url}/dashboard`);
    await page.waitForSelector("#status.live");
    await page.waitForSelector("#nodes tbody tr");
    expect(await page.$$eval("#nodes tbody tr", (rows) => rows.length)).toBe(2);
    expect(await page.$$eval("#coverage .layer", (cells) => cells.map((c) => c.textContent))).toEqual(["1", "1", "1", "1", "1", "1"]);
    const res = await client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Show me on the dashboard." }],
      max_tokens: 16,
      temperature: 0,
    });
    requestId = res.id;
    const shownAt = Date.now();
    // Its log entry appears in the page's latest entries (sequenced within ~1 s, pushed each second).
    await page.waitForSelector(`#entries tr[data-key="${requestId}"]`, { timeout: 10_000 });
    console.log(`dashboard: the request's log entry appeared ${Date.now() - shownAt} ms after the response`);
    expect(Number(await page.textContent("#t-tps"))).toBeGreaterThan(0);
    expect(await page.textContent("#witnesses")).toContain("witnessed by");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard.png"), fullPage: true });
    await page.close();
    // The agent's own view of the same: `aria-agent status --json` on its machine. The entry is in
    // the log, so both stages have closed the session and sent receipts; the agent rewrites its
    // status file within STATUS_SOON_MS of that, so a status showing nothing served is stale.
    const agentStatus = () => {
      const run = spawnSync(
        join(ROOT, "node_modules", ".bin", "bun"),
        [join(ROOT, "agent", "bin", "aria-agent.ts"), "status", "--json", "--config-dir", join(dir, "first")],
        { cwd: ROOT, encoding: "utf8" },
      );
      expect(run.status).toBe(0);
      return JSON.parse(run.stdout);
    };
    expect(agentStatus().running).toBe(true);
    const s = await waitFor(
      "the agent's status to count the request",
      () => {
        const now = agentStatus();
        return now.served.tokens > 0 ? now : null;
      },
      { timeoutMs: 3_000, intervalMs: 100 },
    );
    expect(s).toMatchObject({ running: true, connected: true, model: { id: MODEL, layers: [0, 3] } });
    expect(s.served.tokens).toBeGreaterThan(0);
    expect(typeof s.standing.reputation).toBe("number");
  });

  test("1,000 agents (a synthetic feed) stay readable on a phone-sized screen", async () => {
    const page = await newPage(390, 844);
    const nodes = Array.from({ length: 1000 }, (_, i) => ({
      node_id: randomBytes(32).toString("hex"),
      version: "0.1.0",
      models: [{ id: i % 3 === 0 ? "bitnet-b1.58-2B-4T" : MODEL, sha256: "ab".repeat(32), layers: [(i % 5) * 6, (i % 5) * 6 + 6] }],
      consent: "50% CPU, 4096 MB, 100 Mbit/s, 22:00-06:00 UTC every day, chat, 2 at once, min score 0",
      sessions: i % 3,
      reputation: (i % 100) / 100,
      credits: i * 7,
      verified_steps: i * 5,
      excluded: false,
      mj_per_token: 20 + (i % 50),
      grade: "A+",
    }));
    const now = Math.floor(Date.now() / 1000);
    const snapshot = {
      type: "snapshot",
      at: Date.now(),
      requests: { in_flight: 412, queued: 17 },
      throughput: Array.from({ length: 120 }, (_, k) => [now - 119 + k, 800 + Math.round(200 * Math.sin(k / 9))]),
      nodes,
      excluded: [{ node_id: "cd".repeat(32), reason: "its output of step 0 differed from two other nodes' that agreed", at: Date.now() }],
      coverage: [
        {
          model: "bitnet-b1.58-2B-4T",
          sha256: "ab".repeat(32),
          n_layers: 30,
          replicas: Array.from({ length: 30 }, (_, l) => (l === 29 ? 0 : 30 + l)),
        },
      ],
      ledger: { size: 123456, root: "AAAA", witnesses: ["aria-node/ab"], latest: [] },
    };
    await page.routeWebSocket(/\/dashboard\/live$/, (ws) => {
      ws.send(JSON.stringify(snapshot));
    });
    const started = Date.now();
    await page.goto(`${coordinator.url}/dashboard`);
    await page.waitForSelector("body[data-snapshot-at]");
    console.log(`dashboard: 1,000-agent snapshot rendered ${Date.now() - started} ms after navigation (phone viewport)`);
    expect(await page.textContent("#page-info")).toBe("1000 agents · page 1/10");
    expect(await page.$$eval("#nodes tbody tr", (rows) => rows.length)).toBe(100);
    // Sorted by reputation, so the most trusted agents come first.
    const reps = await page.$$eval("#nodes tbody tr td:nth-child(5)", (tds) => tds.map((td) => Number(td.textContent)));
    expect(reps[0]).toBe(0.99);
    // Nothing makes the page itself scroll sideways: wide tables scroll inside their own box.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    expect(await page.textContent("#coverage")).toContain("1 layers uncovered");
    // Filtering narrows the list at once.
    await page.fill("#filter", "bitnet");
    expect(await page.textContent("#page-info")).toBe("334 agents · page 1/4");
    await page.fill("#filter", "");
    await page.screenshot({ path: join(SCREENSHOTS, "dashboard-phone-1000-agents.png"), fullPage: false });
    await page.close();
  });
});

describe("the admin ledger explorer", () => {
  test("asks for the token and keeps it out of URLs; a wrong token is refused", async () => {
    const page = await newPage();
    const urls: string[] = [];
    page.on("request", (r) => urls.push(r.url()));
    await page.goto(`${coordinator.url}/admin/ledger`);
    await page.fill("#token", "not-the-token");
    await page.click("#login-form button[type=submit]");
    await page.waitForFunction(() => (document.getElementById("login-error")?.textContent ?? "").length > 0);
    expect(await page.isVisible("#explorer")).toBe(false);
    await page.fill("#token", adminToken);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#explorer:not([hidden])");
    expect(urls.some((u) => u.includes(adminToken) || u.includes("not-the-token"))).toBe(false);
    expect(await page.evaluate(() => sessionStorage.getItem("aria-admin-token"))).toBe(adminToken);
    await page.close();
  });

  test("an entry found by its request id verifies in the page: leaf, inclusion, checkpoint signature, cosignatures, receipts; checkpoints are consistent", async () => {
    const page = await newPage();
    await openExplorer(page);
    const { result, checks } = await verifyInPage(page, requestId);
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(result).toBe("verified");
    const names = checks.map((c) => c.name);
    for (const name of ["canonical JSON", "leaf hash", "checkpoint signature", "inclusion proof"]) expect(names).toContain(name);
    expect(names.filter((n) => n.startsWith("receipt of stage"))).toHaveLength(2);
    // Both agents witness the log; their cosignatures of the entry's checkpoint are checked too.
    expect(names.filter((n) => n.startsWith("cosignature aria-node/")).length).toBeGreaterThanOrEqual(1);
    expect(await page.textContent("#entry-json")).toContain(requestId);
    await page.screenshot({ path: join(SCREENSHOTS, "ledger-explorer.png"), fullPage: true });
    // Two checkpoints: the consistency proof between them is checked in the page.
    const sizes = await page.$$eval("#cp-new option", (os) => os.map((o) => (o as HTMLOptionElement).value));
    expect(sizes.length).toBeGreaterThan(1);
    await page.selectOption("#cp-new", sizes[0]!);
    await page.selectOption("#cp-old", sizes[sizes.length - 1]!);
    await page.click("#consistency");
    await page.waitForSelector("#consistency-checks[data-result]");
    expect(await page.getAttribute("#consistency-checks", "data-result")).toBe("verified");
    await page.close();
  });

  test("a tampered entry fails in the page and says what did not match", async () => {
    // The page gets what the coordinator serves for an entry whose stored text was changed after
    // it was logged: the changed text, its bytes and their leaf hash (the route recomputes it
    // from the row), with the proof of the leaf that was logged. The change is made on the way
    // to the page: a second process writing the coordinator's local SQLite while the page loads
    // could stall the page for minutes. ledger.test.ts changes the stored row itself and checks
    // the command-line verifier.
    const page = await newPage();
    await page.route("**/ledger/entry/*", async (route) => {
      const response = await route.fetch();
      const served = (await response.json()) as { entry: unknown; entry_bytes: string; leaf_hash: string };
      const text = Buffer.from(served.entry_bytes, "base64").toString("utf8");
      const changed = text.replace('"completion_tokens":', '"completion_tokens":1');
      expect(changed).not.toBe(text);
      served.entry = JSON.parse(changed);
      served.entry_bytes = Buffer.from(changed, "utf8").toString("base64");
      served.leaf_hash = encodeBase64(leafHash(new TextEncoder().encode(changed)));
      await route.fulfill({ response, json: served });
    });
    await openExplorer(page);
    const { result, checks } = await verifyInPage(page, requestId);
    expect(result).toBe("failed");
    const inclusion = checks.find((c) => c.name === "inclusion proof")!;
    expect(inclusion.ok).toBe(false);
    expect(inclusion.text).toContain("the entry was changed after it was logged");
    await page.screenshot({ path: join(SCREENSHOTS, "ledger-explorer-tampered.png"), fullPage: true });
    await page.close();
  }, 180_000);
});
