#!/usr/bin/env node
// The installed package's postinstall: compiles its native kernels (kernels/, shipped as C
// sources) with the system C compiler into kernels/build/<platform>-<arch>/. In a checkout of the
// repository there is nothing to do here (the repository's own install builds ../kernels). Never
// fails the install: without a compiler it says what to install, and `aria-agent` tries again
// (into its cache) when it first needs the library.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const kernels = join(pkg, "kernels");
if (!existsSync(join(kernels, "Makefile"))) process.exit(0);
const target = `${process.platform}-${process.arch}`;
const r = spawnSync("make", ["-C", kernels, "--no-print-directory", `BUILD=build/${target}`, "lib"], { encoding: "utf8" });
if (r.error || r.status !== 0) {
  process.stderr.write(`${r.stdout ?? ""}${r.stderr ?? ""}`);
  process.stderr.write(
    `aria-agent: the native kernels were not compiled (${r.error ? r.error.message : `make exit ${r.status}`}); ` +
      "install make and a C compiler (Debian/Ubuntu: apt install build-essential; macOS: xcode-select --install)\n",
  );
  process.exit(0);
}
console.log(`aria-agent: native kernels compiled for ${target}`);
