// What the benchmark scripts share: the usage error run.mjs prints usage for, the cache
// directory, running a child that prints one JSON line, and the facts about this machine that
// every result records.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { isAbsolute, join } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** A bad option: run.mjs prints the benchmark's usage after the message. */
export class UsageError extends Error {
  usage = true;
}

/** $ARIA_CACHE_DIR, else $XDG_CACHE_HOME/aria, else ~/.cache/aria (as the agent does). */
export function cacheDir(env) {
  if (env.ARIA_CACHE_DIR) return env.ARIA_CACHE_DIR;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, "aria");
  return join(os.homedir(), ".cache", "aria");
}

/** Runs a child in ROOT, passing its stderr through; resolves with its stdout. */
export function runChild(command, args, what) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d) => {
      out += d;
    });
    child.on("error", (e) => reject(new Error(`${what}: cannot run ${command}: ${e.message}`)));
    child.on("close", (code, signal) =>
      code === 0 ? resolvePromise(out) : reject(new Error(`${what} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

/** The last line of a child's output, parsed as its JSON result. */
export function lastJsonLine(text, what) {
  const line = text.trim().split("\n").pop();
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${what} printed no JSON result`);
  }
}

/** The CPU's model name and flags from /proc/cpuinfo (empty flags elsewhere). */
export function cpuInfo() {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  return {
    model: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? os.cpus()[0]?.model ?? "unknown CPU",
    flags: new Set((cpuinfo.match(/^flags\s*:(.*)$/m)?.[1] ?? "").trim().split(/\s+/)),
  };
}

/** The checkout's short commit, and whether tracked files differ from it. */
export function gitCommit() {
  const hash = spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).stdout?.trim() ?? "";
  const dirty = spawnSync("git", ["status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, encoding: "utf8" }).stdout?.trim() !== "";
  return { hash, dirty };
}
