/** The CLI as a user runs it: `bunx aria-agent …`, one-line errors and exit codes. */
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

describe("aria-agent CLI", () => {
  test("--version prints the package version", () => {
    const r = run("--version");
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  test("help prints usage and exits 0", () => {
    const r = run("help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("start --coordinator <url> --model <path|id>");
  });

  test("bad usage: one line, exit 2", () => {
    for (const r of [
      run("frobnicate"),
      run("start", "--model", "aria-tiny-random"),
      run("start", "--coordinator", "http://x", "--bogus"),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toStartWith("aria-agent: ");
    }
  });

  test("a missing, truncated or corrupt model file: one line naming the problem, exit 1", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-cli-"));
    const truncated = join(dir, "truncated.gguf");
    writeFileSync(truncated, new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0, 9]));
    const notGguf = join(dir, "text.gguf");
    writeFileSync(notGguf, "definitely not a model file, just some text");
    const cases: [string, RegExp][] = [
      [join(dir, "absent.gguf"), /not found/],
      [truncated, /truncat/i],
      [notGguf, /magic|not a (valid )?GGUF/i],
    ];
    for (const [path, pattern] of cases) {
      const r = run("start", "--coordinator", "http://127.0.0.1:9", "--model", path, "--config-dir", dir);
      expect(r.code).toBe(1);
      const lines = r.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(pattern);
    }
  });
});

describe("aria-agent generate", () => {
  test("greedy output equals the reference forward pass; diagnostics on stderr", async () => {
    const { expectedGreedyCompletion } = await import("../../../tests/support/expected-output.ts");
    const { ensureBuiltinModel } = await import("../model/builtin.ts");
    const cacheDir = mkdtempSync(join(tmpdir(), "aria-gen-"));
    const prompt = "Ternary weights are";
    const expected = await expectedGreedyCompletion(await ensureBuiltinModel(cacheDir), { raw: prompt }, 20);
    const r = run(
      "generate",
      "--model",
      "aria-tiny-random",
      "--prompt",
      prompt,
      "--max-tokens",
      "20",
      "--temperature",
      "0",
      "--cache-dir",
      cacheDir,
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${expected.content}\n`);
    expect(r.stderr).toMatch(/20 tokens generated, decode [\d.]+ tok\/s/);
  });

  test("bad options are one-line errors", () => {
    const r = run("generate", "--model", "aria-tiny-random", "--prompt", "x", "--temperature", "hot");
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe("aria-agent: --temperature must be a number in [0, 2], got 'hot'");
  });
});
