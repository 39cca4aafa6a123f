/** `aria-agent status` without a running agent (a running one is checked end to end in tests/e2e/web.test.ts). */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUNX = join(ROOT, "node_modules", ".bin", "bunx");

function run(...args: string[]) {
  const proc = Bun.spawnSync([BUNX, "aria-agent", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("aria-agent status", () => {
  test("with no agent ever run here: one line saying so, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-status-"));
    const r = run("status", "--config-dir", dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.stderr).toContain(`no agent has run with config dir ${dir}`);
  });

  test("an agent that stopped: its last status, marked not running, as text and as JSON", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-status-"));
    const status = {
      node_id: "ab".repeat(32),
      pid: 2 ** 22 + 7, // above Linux's pid_max default: no such process
      version: "0.1.0",
      coordinator: "http://127.0.0.1:9",
      connected: false,
      model: { id: "aria-tiny-random", sha256: "cd".repeat(32), layers: [0, 6], n_layers: 6 },
      sessions: 0,
      max_sessions: 4,
      served: { sessions: 3, tokens: 120, energy_mj: 1500, cpu_ms: 90, energy_method: "estimate" },
      consent: "100% CPU, 4096 MB",
      model_bytes: 3 * 2 ** 20,
      started_at: 1,
      updated_at: 2,
    };
    writeFileSync(join(dir, "status.json"), JSON.stringify(status));
    const text = run("status", "--config-dir", dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("not running");
    expect(text.stdout).toContain("aria-tiny-random layers 0-5 of 6");
    expect(text.stdout).toContain("120 computed");
    const json = JSON.parse(run("status", "--json", "--config-dir", dir).stdout);
    expect(json).toMatchObject({ running: false, served: { tokens: 120 }, standing: { unavailable: "the agent is not running" } });
    expect(run("status", "--bogus").code).toBe(2);
  });
});
