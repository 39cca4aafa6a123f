/**
 * Runs tests/interop/go-verify (a log verifier written with Go's golang.org/x/mod/sumdb/note and
 * sumdb/tlog, not with ARIA's code) against a live coordinator. The program is built once per
 * process, offline, in GOPATH mode against Debian's packaged x/mod sources
 * (`apt-get install golang-go golang-golang-x-mod-dev`).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const SOURCE_DIR = fileURLToPath(new URL("./go-verify/", import.meta.url));
/** Where Debian's golang-golang-x-mod-dev puts the sources (src/golang.org/x/mod/...). */
const GOPATH = "/usr/share/gocode";
const INSTALL_HINT = "install Go and its x/mod sources: apt-get install -y golang-go golang-golang-x-mod-dev";

export interface GoVerifyResult {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number }) {
  return new Promise<GoVerifyResult>((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 120_000);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

let built: Promise<string> | undefined;

/** Builds the verifier once per process; resolves to the binary's path. */
function buildGoVerify(): Promise<string> {
  built ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), "aria-go-verify-"));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      GO111MODULE: "off", // GOPATH mode: no module download, the packaged sources are the dependency
      GOPATH,
      GOCACHE: join(dir, "cache"),
      GOFLAGS: "",
      GOPROXY: "off",
      GOTOOLCHAIN: "local",
      CGO_ENABLED: "0",
    };
    try {
      await run("go", ["version"], { env });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`go is not installed: ${INSTALL_HINT}`);
      throw err;
    }
    if (!existsSync(join(GOPATH, "src", "golang.org", "x", "mod", "sumdb", "tlog"))) {
      throw new Error(`golang.org/x/mod is not under ${GOPATH}/src: ${INSTALL_HINT}`);
    }
    const binary = join(dir, "go-verify");
    const r = await run("go", ["build", "-o", binary, "."], { cwd: SOURCE_DIR, env });
    if (r.code !== 0) throw new Error(`go build of tests/interop/go-verify failed (${r.code}):\n${r.stderr}${r.stdout}`);
    return binary;
  })();
  built.catch(() => {
    built = undefined; // let a later call retry (e.g. after installing Go)
  });
  return built;
}

/**
 * Verifies the log of the coordinator at `url` with Go's tools: the checkpoint's signature by
 * `vkey`, the root from the tiles, every entry's inclusion, and consistency with `old` if given.
 * Exit code 0 means everything held; stdout then has one `ok: …` line, else a `FAIL: …` line.
 */
export async function goVerify(url: string, vkey: string, old?: { size: number; rootB64: string }): Promise<GoVerifyResult> {
  const binary = await buildGoVerify();
  const args = [url, vkey, ...(old ? [String(old.size), old.rootB64] : [])];
  return run(binary, args, {});
}
