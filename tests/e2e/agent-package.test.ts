/**
 * The agent as users install it (docs/getting-started.md, "Installing the agent"): `npm pack` in
 * agent/ yields a package with the CLI bundled (shared code and dependencies inside) and the
 * kernels as C sources; installed from the tarball into an empty folder outside the repository,
 * it compiles its kernels, generates exactly what the checkout generates, serves a local
 * coordinator, and — when its install scripts did not run, as under bunx — compiles the kernels
 * into its cache on first use.
 */
import type { ChildProcess } from "node:child_process";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { freePort, ROOT, startAgent, startCoordinator, stopGroup, waitForModel } from "../../scripts/local-network.mjs";

const BUN_DIR = join(ROOT, "node_modules", ".bin");
const MODEL = "aria-tiny-random";
const PROMPT = "The agent installed from its package says";

let dir: string;
let installed: string;
let bin: string;
let coordinator: { url: string; child: ChildProcess } | undefined;
let agent: ChildProcess | undefined;

/** Runs the installed command with only Bun on the PATH besides the system's, from the temp folder. */
function run(args: string[], env: Record<string, string> = {}) {
  return spawnSync(bin, args, {
    cwd: dir,
    encoding: "utf8",
    timeout: 240_000,
    env: { ...process.env, PATH: `${BUN_DIR}:${process.env.PATH}`, HOME: join(dir, "home"), ARIA_KERNELS_LIB: "", ...env },
  });
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "aria-package-"));
  const pack = spawnSync("npm", ["pack", "--pack-destination", dir], { cwd: join(ROOT, "agent"), encoding: "utf8", timeout: 120_000 });
  if (pack.status !== 0) throw new Error(`npm pack failed: ${pack.stdout}${pack.stderr}`);
  const tarball = readdirSync(dir).find((f) => f.endsWith(".tgz"));
  if (!tarball) throw new Error("npm pack wrote no tarball");
  installed = join(dir, "app");
  mkdirSync(installed, { recursive: true });
  writeFileSync(join(installed, "package.json"), JSON.stringify({ name: "aria-agent-user", private: true }));
  const install = spawnSync("npm", ["install", "--no-audit", "--no-fund", "--offline", join(dir, tarball)], {
    cwd: installed,
    encoding: "utf8",
    timeout: 240_000,
  });
  if (install.status !== 0) throw new Error(`npm install of the tarball failed: ${install.stdout}${install.stderr}`);
  bin = join(installed, "node_modules", ".bin", "aria-agent");
}, 400_000);

afterAll(async () => {
  await stopGroup(agent);
  await stopGroup(coordinator?.child);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the packed agent, installed outside the repository", () => {
  test("ships a bundle and kernel sources, not the repository's TypeScript; compiled its kernels at install", () => {
    const pkg = join(installed, "node_modules", "aria-agent");
    expect(existsSync(join(pkg, "dist", "aria-agent.js"))).toBe(true);
    expect(existsSync(join(pkg, "src"))).toBe(false);
    expect(existsSync(join(pkg, "kernels", "src", "forward.c"))).toBe(true);
    expect(existsSync(join(pkg, "kernels", "build", `${process.platform}-${process.arch}`))).toBe(true);
    const version = run(["--version"]);
    expect(version.status).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test("generate writes exactly what the checkout's agent writes", () => {
    const args = ["generate", "--model", MODEL, "--prompt", PROMPT, "--max-tokens", "16", "--cache-dir", join(dir, "cache")];
    const packaged = run(args);
    expect(packaged.status, packaged.stderr).toBe(0);
    const checkout = spawnSync(join(BUN_DIR, "bun"), [join(ROOT, "agent", "bin", "aria-agent.ts"), ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(checkout.status, checkout.stderr).toBe(0);
    expect(packaged.stdout.length).toBeGreaterThan(0);
    expect(packaged.stdout).toBe(checkout.stdout);
  });

  test("without its install-time build (as under bunx) it compiles the kernels into its cache once, with a message", () => {
    const pkgBuild = join(installed, "node_modules", "aria-agent", "kernels", "build");
    rmSync(pkgBuild, { recursive: true, force: true });
    const cache = join(dir, "cache-fresh");
    const first = run(["generate", "--model", MODEL, "--prompt", PROMPT, "--max-tokens", "4", "--cache-dir", cache]);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toMatch(/compiling the native kernels for .* \(once\)/);
    const second = run(["generate", "--model", MODEL, "--prompt", PROMPT, "--max-tokens", "4", "--cache-dir", cache]);
    expect(second.status, second.stderr).toBe(0);
    expect(second.stderr).not.toMatch(/compiling the native kernels/);
    expect(second.stdout).toBe(first.stdout);
  }, 300_000);

  test("start serves a local coordinator: a chat completion through the installed agent", async () => {
    const apiKey = `test-${randomBytes(8).toString("hex")}`;
    coordinator = await startCoordinator({ port: await freePort(), persistDir: join(dir, "coordinator"), apiKey });
    agent = startAgent({
      coordinator: coordinator.url,
      model: MODEL,
      configDir: join(dir, "agent-config"),
      cacheDir: join(dir, "cache-fresh"),
      entry: bin,
      env: { PATH: `${BUN_DIR}:${process.env.PATH}`, HOME: join(dir, "home"), ARIA_KERNELS_LIB: "" },
    });
    await waitForModel(coordinator.url, apiKey, MODEL, { process: agent });
    const res = await fetch(`${coordinator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "Hello" }], max_tokens: 8 }),
    });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]!.message.content.length).toBeGreaterThan(0);
  }, 180_000);
});
