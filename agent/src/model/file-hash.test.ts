import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cachedSha256 } from "./file-hash.ts";

describe("cachedSha256", () => {
  test("hashes once per file version: unchanged files come from the cache, changed ones are hashed again", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-hash-"));
    const file = join(dir, "model.gguf");
    writeFileSync(file, "first version");
    const sha = (s: string) => createHash("sha256").update(s).digest("hex");
    expect(await cachedSha256(file, join(dir, "cache"))).toEqual({ sha256: sha("first version"), hashed: true });
    expect(await cachedSha256(file, join(dir, "cache"))).toEqual({ sha256: sha("first version"), hashed: false });
    writeFileSync(file, "second version!");
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    expect(await cachedSha256(file, join(dir, "cache"))).toEqual({ sha256: sha("second version!"), hashed: true });
    writeFileSync(join(dir, "cache", "sha256-cache.json"), "not json");
    expect((await cachedSha256(file, join(dir, "cache"))).hashed).toBe(true);
  });
});
