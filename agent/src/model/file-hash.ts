/**
 * A model file's SHA-256 (its identity on the network), computed once per file version: the hash
 * is remembered in `<dir>/sha256-cache.json` keyed by the file's absolute path, size and
 * modification time, so starting an agent on a multi-gigabyte file does not read it all again.
 * A changed file (other size or mtime) is hashed afresh; an unreadable cache is ignored.
 */
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

interface CacheEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  const reader = Bun.file(path).stream().getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    hasher.update(value);
  }
  return hasher.digest("hex");
}

function readCache(file: string): Record<string, CacheEntry> {
  try {
    const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
    return typeof parsed === "object" && parsed !== null ? (parsed as Record<string, CacheEntry>) : {};
  } catch {
    return {};
  }
}

/** The file's SHA-256, from the cache in `cacheDir` when the file is unchanged; `hashed` says whether it was read. */
export async function cachedSha256(path: string, cacheDir: string): Promise<{ sha256: string; hashed: boolean }> {
  const abs = resolve(path);
  const { size, mtimeMs } = statSync(abs);
  const file = join(cacheDir, "sha256-cache.json");
  const cache = readCache(file);
  const hit = cache[abs];
  if (hit && hit.size === size && hit.mtimeMs === mtimeMs && /^[0-9a-f]{64}$/.test(hit.sha256))
    return { sha256: hit.sha256, hashed: false };
  const sha256 = await sha256File(abs);
  // A file changed while it was read keeps no entry: the next start hashes it again.
  const after = statSync(abs);
  if (after.size === size && after.mtimeMs === mtimeMs) {
    try {
      mkdirSync(cacheDir, { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ ...readCache(file), [abs]: { size, mtimeMs, sha256 } }, null, 2)}\n`);
      renameSync(tmp, file);
    } catch {
      // a cache that cannot be written only costs a re-hash next time
    }
  }
  return { sha256, hashed: true };
}
