/** The downloader against a local server that behaves like the hub (a redirect with X-Linked-* headers) and misbehaves. */
import { afterAll, describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DownloadError, download } from "./download.ts";

const body = new Uint8Array(randomBytes(300_000));
const sha = createHash("sha256").update(body).digest("hex");
let cdnRequests = 0;
const ranges: (string | null)[] = [];

const server = Bun.serve({
  port: 0,
  fetch(req) {
    const url = new URL(req.url);
    if (url.pathname === "/org/repo/resolve/main/model.gguf")
      return new Response(null, {
        status: 302,
        headers: { location: "/cdn/model.gguf", "x-linked-etag": `"${sha}"`, "x-linked-size": String(body.length) },
      });
    if (url.pathname === "/gated") return new Response("no", { status: 401 });
    if (url.pathname !== "/cdn/model.gguf") return new Response("missing", { status: 404 });
    const n = ++cdnRequests;
    const range = req.headers.get("range");
    ranges.push(range);
    const from = range ? Number(/bytes=(\d+)-/.exec(range)![1]) : 0;
    const rest = body.slice(from);
    if (n === 1) {
      // Cut the connection halfway through.
      const half = rest.slice(0, 150_000);
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(half);
            // Let the half reach the client, then drop the connection.
            setTimeout(() => c.error(new Error("cut")), 100);
          },
        }),
        { headers: { "content-length": String(rest.length) } },
      );
    }
    const bytes = new Uint8Array(rest);
    if (n === 2) bytes[1000] = bytes[1000]! ^ 0xff; // one wrong byte, once
    return new Response(bytes, {
      status: range ? 206 : 200,
      headers: {
        "content-length": String(bytes.length),
        ...(range ? { "content-range": `bytes ${from}-${body.length - 1}/${body.length}` } : {}),
      },
    });
  },
});
afterAll(() => server.stop(true));

describe("download", () => {
  test("resumes after a cut connection, re-downloads after a wrong byte, verifies the hub's SHA-256, renames atomically", async () => {
    const dir = mkdtempSync(join(tmpdir(), "aria-dl-"));
    const dest = join(dir, "model.gguf");
    const notes: string[] = [];
    let lastProgress = 0;
    const result = await download({
      url: `http://localhost:${server.port}/org/repo/resolve/main/model.gguf`,
      dest,
      backoffMs: 10,
      onNote: (l) => notes.push(l),
      onProgress: (done) => {
        lastProgress = done;
      },
    });
    expect(result).toEqual({ sha256: sha, bytes: body.length, verified: true });
    expect(Buffer.compare(readFileSync(dest), Buffer.from(body))).toBe(0);
    expect(readFileSync(`${dest}.sha256`, "utf8").trim()).toBe(sha);
    expect(existsSync(`${dest}.part`)).toBe(false);
    expect(lastProgress).toBe(body.length);
    // The second request resumed where the first stopped; the third started over after the bad hash.
    expect(ranges).toEqual([null, "bytes=150000-", null]);
    expect(notes.some((n) => n.startsWith("interrupted"))).toBe(true);
    expect(notes.some((n) => n.startsWith("SHA-256 mismatch"))).toBe(true);
  });

  test("a gated file, a missing one, and a bad --sha256 are clear errors", async () => {
    const dest = join(mkdtempSync(join(tmpdir(), "aria-dl-")), "x.gguf");
    await expect(download({ url: `http://localhost:${server.port}/gated`, dest })).rejects.toThrow("HF_TOKEN");
    await expect(download({ url: `http://localhost:${server.port}/nope`, dest })).rejects.toThrow("not found");
    await expect(download({ url: `http://localhost:${server.port}/nope`, dest, sha256: "xyz" })).rejects.toBeInstanceOf(DownloadError);
  });
});
