/** `aria-agent models …` as a user runs them, against a local server that answers like the model hub. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuiltinModel } from "../model/builtin.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const BUNX = join(ROOT, "node_modules", ".bin", "bunx");
let server: ReturnType<typeof Bun.serve>;
let file: Uint8Array<ArrayBuffer>;

async function run(env: Record<string, string>, ...args: string[]) {
  const proc = Bun.spawn([BUNX, "aria-agent", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  file = new Uint8Array(readFileSync(await ensureBuiltinModel(mkdtempSync(join(tmpdir(), "aria-src-")))));
  const sha = createHash("sha256").update(file).digest("hex");
  server = Bun.serve({
    port: 0,
    fetch(req) {
      const path = new URL(req.url).pathname;
      if (path === "/org/tiny-gguf/resolve/main/aria-tiny.gguf")
        return new Response(null, {
          status: 302,
          headers: { location: "/lfs/aria-tiny", "x-linked-etag": `"${sha}"`, "x-linked-size": String(file.length) },
        });
      if (path === "/lfs/aria-tiny") return new Response(file);
      return new Response("not found", { status: 404 });
    },
  });
});
afterAll(() => server?.stop(true));

describe("aria-agent models", () => {
  test("pull from the hub, list, use by name with generate, verify, notice tampering, rm", async () => {
    const cache = mkdtempSync(join(tmpdir(), "aria-models-"));
    const env = { HF_ENDPOINT: `http://localhost:${server.port}` };
    const pulled = await run(env, "models", "pull", "org/tiny-gguf:aria-tiny.gguf", "--cache-dir", cache);
    expect(pulled.code).toBe(0);
    expect(pulled.stdout).toContain("(verified)");
    const listed = JSON.parse((await run(env, "models", "list", "--json", "--cache-dir", cache)).stdout) as {
      name: string;
      bytes: number;
      sha256: string;
    }[];
    expect(listed.find((m) => m.name === "aria-tiny")).toMatchObject({
      bytes: file.length,
      sha256: createHash("sha256").update(file).digest("hex"),
    });
    const gen = await run(env, "generate", "--model", "aria-tiny", "--cache-dir", cache, "--prompt", "Hello", "--max-tokens", "3");
    expect(gen.code).toBe(0);
    expect((await run(env, "models", "verify", "aria-tiny", "--cache-dir", cache)).code).toBe(0);
    appendFileSync(join(cache, "models", "aria-tiny.gguf"), "x");
    const bad = await run(env, "models", "verify", "aria-tiny", "--cache-dir", cache);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("the file changed");
    expect((await run(env, "models", "rm", "aria-tiny", "--cache-dir", cache)).code).toBe(0);
    const missing = await run(env, "models", "pull", "org/tiny-gguf:nothing.gguf", "--cache-dir", cache);
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split("\n").at(-1)).toContain("not found");
    expect((await run(env, "models", "pull", "just-a-name", "--cache-dir", cache)).stderr).toContain("not a known alias");
  }, 60_000);
});
