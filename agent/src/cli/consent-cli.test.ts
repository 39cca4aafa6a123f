/** `aria-agent consent …` and consent at `aria-agent start`, as the owner uses them. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUNX = join(ROOT, "node_modules", ".bin", "bunx");

function run(...args: string[]) {
  const proc = Bun.spawnSync([BUNX, "aria-agent", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}

describe("aria-agent consent", () => {
  test("show, set and revoke edit the owner's file; show --json prints the contract in force", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-consent-"));
    const shown = run("consent", "show", "--config-dir", dir);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("the default contract applies");
    const set = run("consent", "set", "cpu_percent=50", "days=mon,tue", "schedule=22:00-06:00", "allow_logging=false", "--config-dir", dir);
    expect(set.code).toBe(0);
    const file = JSON.parse(readFileSync(join(dir, "consent.json"), "utf8"));
    expect(file).toMatchObject({ cpu_percent: 50, days: ["mon", "tue"], schedule: "22:00-06:00", allow_logging: false, revoked: false });
    expect(JSON.parse(run("consent", "show", "--json", "--config-dir", dir).stdout)).toEqual(file);
    expect(run("consent", "revoke", "--now", "--config-dir", dir).code).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, "consent.json"), "utf8"))).toMatchObject({
      revoked: true,
      stop_open_work: true,
      cpu_percent: 50,
    });
  });

  test("a bad value is one line naming the field, and the file is left as it was", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-consent-"));
    run("consent", "set", "cpu_percent=40", "--config-dir", dir);
    const before = readFileSync(join(dir, "consent.json"), "utf8");
    for (const [pair, field] of [
      ["cpu_percent=500", "cpu_percent"],
      ["schedule=9am-5pm", "schedule"],
      ["days=funday", "days.0"],
      ["allow_geo_tracking=true", "allow_geo_tracking"],
    ]) {
      const r = run("consent", "set", pair!, "--config-dir", dir);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toContain(`consent: ${field}:`);
    }
    expect(readFileSync(join(dir, "consent.json"), "utf8")).toBe(before);
  });

  test("start refuses a bad consent file with one line naming the field, and a revoked contract", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-consent-"));
    const bad = join(dir, "bad.json");
    writeFileSync(bad, JSON.stringify({ max_concurrent_tasks: "many" }));
    const r = run("start", "--coordinator", "http://127.0.0.1:9", "--model", "aria-tiny-random", "--consent", bad, "--config-dir", dir);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split("\n")).toEqual([expect.stringMatching(/^aria-agent: consent file .*bad\.json: max_concurrent_tasks: /)]);
    const broken = join(dir, "broken.json");
    writeFileSync(broken, "{ not json");
    const b = run("start", "--coordinator", "http://127.0.0.1:9", "--model", "aria-tiny-random", "--consent", broken, "--config-dir", dir);
    expect(b.stderr.trim().split("\n")).toEqual([expect.stringContaining("not valid JSON")]);
    const revoked = join(dir, "revoked.json");
    writeFileSync(revoked, JSON.stringify({ revoked: true }));
    const v = run("start", "--coordinator", "http://127.0.0.1:9", "--model", "aria-tiny-random", "--consent", revoked, "--config-dir", dir);
    expect(v.code).toBe(1);
    expect(v.stderr).toContain("consent is revoked");
  });

  test("start refuses --layers that need more memory than max_ram_mb", () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-consent-"));
    const tight = join(dir, "tight.json");
    writeFileSync(tight, JSON.stringify({ max_ram_mb: 1 }));
    const cache = join(dir, "cache");
    // The built-in model (made on first use) is about 1.5 MB: all of its layers do not fit in 1 MB.
    const r = run(
      "start",
      "--coordinator",
      "http://127.0.0.1:9",
      "--model",
      "aria-tiny-random",
      "--layers",
      "all",
      "--consent",
      tight,
      "--config-dir",
      dir,
      "--cache-dir",
      cache,
    );
    expect(r.code).not.toBe(0);
    const last = r.stderr.trim().split("\n").at(-1)!;
    expect(last).toMatch(/^aria-agent: --layers 0-5 needs 2 MB, more than the consent's max_ram_mb 1$/);
  });
});
