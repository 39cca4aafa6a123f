#!/usr/bin/env node
// Builds the native kernels: kernels/build/<platform>-<arch>/libaria.{so,dylib}.
// Runs as the root package's postinstall; `--force` rebuilds from clean. make only rebuilds what
// changed. Prints one line; on failure also the compiler output, and exits non-zero.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const kernels = join(root, "kernels");
const force = process.argv.includes("--force");
const target = `${process.platform}-${process.arch}`;
const lib = join(kernels, "build", target, process.platform === "darwin" ? "libaria.dylib" : "libaria.so");
const cc = process.env.CC || "cc";

function fail(message, output = "") {
  if (output.trim()) process.stderr.write(`${output.trimEnd()}\n`);
  process.stderr.write(`aria: kernels not built: ${message}\n`);
  process.exit(1);
}

function run(cmd, args) {
  return spawnSync(cmd, args, { cwd: root, encoding: "utf8" });
}

if (process.platform === "win32") fail("Windows is not supported natively; use WSL");
for (const [tool, hint] of [
  ["make", "install make (Debian/Ubuntu: apt install build-essential; macOS: xcode-select --install)"],
  [cc, "install a C compiler (Debian/Ubuntu: apt install build-essential; macOS: xcode-select --install)"],
]) {
  const probe = run(tool, ["--version"]);
  if (probe.error) fail(`\`${tool}\` not found: ${hint}`);
}

if (force) {
  const clean = run("make", ["-C", kernels, "clean"]);
  if (clean.status !== 0) fail("make clean failed", clean.stdout + clean.stderr);
}
const build = run("make", ["-C", kernels, "--no-print-directory"]);
if (build.error || build.status !== 0) {
  fail(`make -C kernels failed${build.error ? ` (${build.error.message})` : ""}`, build.stdout + build.stderr);
}
if (!existsSync(lib)) {
  fail(`make succeeded but ${relative(root, lib)} is missing (make's target differs from ${target}?)`);
}
const rebuilt = /\bLD\b/.test(build.stdout);
console.log(`aria: kernels ${rebuilt ? "built" : "up to date"}: ${relative(root, lib)}`);
