/**
 * Downloading a model file the way a consumer PC needs it (docs/models.md): resumable (HTTP Range,
 * after any interruption), verified (SHA-256 from the hub's `X-Linked-Etag`, or given), retried,
 * with progress, and atomic (written to `<dest>.part`, renamed only once verified). Redirects are
 * followed by hand so the hub's `X-Linked-Etag`/`X-Linked-Size` on the first answer are seen.
 */
import { createReadStream, existsSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";

export class DownloadError extends Error {}

export interface DownloadOptions {
  url: string;
  dest: string;
  /** Expected SHA-256 (hex); else the hub's X-Linked-Etag, else the file is not verified. */
  sha256?: string;
  headers?: Record<string, string>;
  /** Attempts after interruptions (each resumes where the file stopped). */
  retries?: number;
  onProgress?: (done: number, total: number | null) => void;
  onNote?: (line: string) => void;
  /** Wait between attempts (tests shorten it). */
  backoffMs?: number;
}

export interface DownloadResult {
  sha256: string;
  bytes: number;
  /** Whether an expected hash was known and matched. */
  verified: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The file's hash from the hub's headers: X-Linked-Etag holds an LFS file's SHA-256 (quoted). */
function linkedSha256(h: Headers): string | undefined {
  const etag = h.get("x-linked-etag")?.replaceAll('"', "").replace(/^W\//, "").toLowerCase();
  return etag && HEX64.test(etag) ? etag : undefined;
}

async function fileSha256(path: string): Promise<string> {
  const hasher = new Bun.CryptoHasher("sha256");
  for await (const chunk of createReadStream(path)) hasher.update(chunk as Uint8Array);
  return hasher.digest("hex");
}

/** GET with Range from `from`, following redirects by hand; returns the final response and what the hops said. */
async function get(url: string, from: number, headers: Record<string, string>) {
  let at = url;
  let linked: { sha256?: string; size?: number } = {};
  for (let hop = 0; hop < 8; hop++) {
    const res = await fetch(at, {
      headers: { ...headers, ...(from > 0 ? { range: `bytes=${from}-` } : {}) },
      redirect: "manual",
    });
    const sha = linkedSha256(res.headers);
    const size = Number(res.headers.get("x-linked-size"));
    linked = { sha256: linked.sha256 ?? sha, size: linked.size ?? (Number.isFinite(size) && size > 0 ? size : undefined) };
    if (res.status >= 300 && res.status < 400 && res.headers.get("location")) {
      await res.body?.cancel();
      at = new URL(res.headers.get("location")!, at).toString();
      continue;
    }
    return { res, linked };
  }
  throw new DownloadError(`${url}: too many redirects`);
}

export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const part = `${o.dest}.part`;
  const retries = o.retries ?? 8;
  let expected = o.sha256?.toLowerCase();
  if (expected !== undefined && !HEX64.test(expected)) throw new DownloadError(`--sha256 must be 64 hex digits, got '${o.sha256}'`);
  let restartedForHash = false;
  for (let attempt = 0; ; attempt++) {
    let have = existsSync(part) ? statSync(part).size : 0;
    let total: number | null = null;
    try {
      const { res, linked } = await get(o.url, have, o.headers ?? {});
      expected ??= linked.sha256;
      if (res.status === 416 && have > 0) {
        await res.body?.cancel();
      } else {
        if (res.status === 401 || res.status === 403)
          throw new DownloadError(`${o.url}: HTTP ${res.status} (a gated or private model needs HF_TOKEN)`);
        if (res.status === 404) throw new DownloadError(`${o.url}: not found (HTTP 404)`);
        if (res.status !== 200 && res.status !== 206) throw new DownloadError(`${o.url}: HTTP ${res.status}`);
        if (res.status === 200 && have > 0) {
          o.onNote?.("the server does not resume; starting over");
          rmSync(part, { force: true });
          have = 0;
        }
        const length = Number(res.headers.get("content-length"));
        total = linked.size ?? (Number.isFinite(length) && length > 0 ? have + length : null);
        const file = await open(part, "a");
        try {
          const reader = res.body!.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            await file.write(value);
            have += value.byteLength;
            o.onProgress?.(have, total);
          }
        } finally {
          await file.close();
        }
        if (total !== null && have < total) throw new Error(`the connection ended at ${have} of ${total} bytes`);
      }
    } catch (err) {
      if (err instanceof DownloadError) throw err;
      if (attempt >= retries) throw new DownloadError(`${o.url}: gave up after ${retries + 1} attempts: ${(err as Error).message}`);
      o.onNote?.(`interrupted (${(err as Error).message}); resuming from byte ${existsSync(part) ? statSync(part).size : 0}`);
      await new Promise((r) => setTimeout(r, (o.backoffMs ?? 1_000) * Math.min(8, 2 ** attempt)));
      continue;
    }
    const sha256 = await fileSha256(part);
    if (expected && sha256 !== expected) {
      rmSync(part, { force: true });
      if (restartedForHash) throw new DownloadError(`${o.url}: SHA-256 ${sha256} is not the expected ${expected}, twice; giving up`);
      restartedForHash = true;
      o.onNote?.(`SHA-256 mismatch (got ${sha256.slice(0, 12)}…, expected ${expected.slice(0, 12)}…); downloading again`);
      continue;
    }
    renameSync(part, o.dest);
    if (expected) writeFileSync(`${o.dest}.sha256`, `${expected}\n`);
    return { sha256, bytes: statSync(o.dest).size, verified: expected !== undefined };
  }
}
