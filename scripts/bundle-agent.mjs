#!/usr/bin/env node
// Prepares agent/ for `npm pack` (its prepack script): bundles the CLI with the shared code and
// every dependency into agent/dist/aria-agent.js (Bun target; bun:ffi stays a runtime import)
// and copies the kernels' C sources into agent/kernels/, which the installed package compiles.
// `--clean` (postpack) removes both again.
import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const agent = join(root, "agent");
rmSync(join(agent, "dist"), { recursive: true, force: true });
rmSync(join(agent, "kernels"), { recursive: true, force: true });
if (process.argv.includes("--clean")) process.exit(0);

const bun = join(root, "node_modules", ".bin", "bun");
const r = spawnSync(
  bun,
  ["build", join(agent, "src", "cli", "main.ts"), "--target=bun", `--outfile=${join(agent, "dist", "aria-agent.js")}`],
  {
    encoding: "utf8",
  },
);
if (r.error || r.status !== 0) {
  process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
  process.stderr.write(`aria: bundling the agent failed${r.error ? `: ${r.error.message}` : ""}\n`);
  process.exit(1);
}
mkdirSync(join(agent, "kernels"), { recursive: true });
for (const part of ["Makefile", "include", "src"]) cpSync(join(root, "kernels", part), join(agent, "kernels", part), { recursive: true });
console.log("aria: agent bundled into agent/dist/aria-agent.js; kernel sources staged in agent/kernels/");
