import { describe, expect, test } from "bun:test";
import { mkdtempSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultConfigDir, loadOrCreateIdentity } from "./node-key.ts";

describe("node identity", () => {
  test("made on first run with mode 0600, the same node id afterwards", async () => {
    const dir = join(mkdtempSync(join(tmpdir(), "aria-key-")), "nested");
    const first = await loadOrCreateIdentity(dir);
    expect(statSync(first.path).mode & 0o777).toBe(0o600);
    expect(first.nodeId).toMatch(/^[0-9a-f]{64}$/);
    const again = await loadOrCreateIdentity(dir);
    expect(again.nodeId).toBe(first.nodeId);
  });

  test("a corrupt key file is a clear error, not a new identity", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-key-"));
    writeFileSync(join(dir, "node-key"), "not hex", { mode: 0o600 });
    await expect(loadOrCreateIdentity(dir)).rejects.toThrow(/corrupt/);
  });

  test("config dir: ARIA_CONFIG_DIR, then XDG_CONFIG_HOME/aria", () => {
    expect(defaultConfigDir({ ARIA_CONFIG_DIR: "/a" })).toBe("/a");
    expect(defaultConfigDir({ XDG_CONFIG_HOME: "/x" })).toBe("/x/aria");
  });
});
