/**
 * Where the native kernels library is (docs/getting-started.md, "Installing the agent"): an
 * explicit override (ARIA_KERNELS_LIB), else the build beside the running code — the installed
 * package's kernels/build/ (compiled by its postinstall) or the repository's — else, in an
 * installed package whose postinstall did not run (bunx runs none), a build into the cache made
 * on first use from the C sources the package ships.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AGENT_VERSION } from "../version.ts";

const SUFFIX: Partial<Record<NodeJS.Platform, string>> = { darwin: "dylib", linux: "so" };
const TARGET = `${process.platform}-${process.arch}`;
const FILE = `libaria.${SUFFIX[process.platform] ?? "so"}`;

/** kernels/ of the installed package (beside dist/), or undefined in a checkout. */
function packageKernels(): string | undefined {
  const dir = fileURLToPath(new URL("../kernels/", import.meta.url));
  return existsSync(join(dir, "Makefile")) ? dir : undefined;
}

/** Path of libaria for this platform; `override` (from ARIA_KERNELS_LIB) wins when set. */
export function kernelLibraryPath(override: string | undefined): string {
  if (override) return override;
  const pkg = packageKernels();
  if (pkg) return join(pkg, "build", TARGET, FILE);
  return fileURLToPath(new URL(`../../../kernels/build/${TARGET}/${FILE}`, import.meta.url));
}

export function kernelLibraryExists(path: string): boolean {
  return existsSync(path);
}

/**
 * The library to load: kernelLibraryPath when it exists; otherwise, in an installed package, the
 * one compiled into `<cacheDir>/kernels/<version>-<platform>-<arch>/` (now, if not yet: `log` says
 * so). Throws an Error that says what is missing (a compiler, or `npm run kernels` in a checkout).
 */
export function ensureKernelLibrary(override: string | undefined, cacheDir: string, log: (line: string) => void): string {
  const path = kernelLibraryPath(override);
  if (existsSync(path)) return path;
  const pkg = override ? undefined : packageKernels();
  if (!pkg) throw new Error(`native kernels not found at ${path}; build them with 'npm run kernels'`);
  const build = join(cacheDir, "kernels", `${AGENT_VERSION}-${TARGET}`);
  const cached = join(build, FILE);
  if (existsSync(cached)) return cached;
  mkdirSync(build, { recursive: true });
  log(`compiling the native kernels for ${TARGET} into ${build} (once)…`);
  const r = spawnSync("make", ["-C", pkg, "--no-print-directory", `BUILD=${build}`, "lib"], { encoding: "utf8" });
  if (r.error || r.status !== 0 || !existsSync(cached)) {
    const why = r.error ? r.error.message : `${(r.stderr || r.stdout || "").trim().split("\n").at(-1) ?? ""} (make exit ${r.status})`;
    throw new Error(
      `native kernels could not be compiled: ${why}; install make and a C compiler (Debian/Ubuntu: apt install build-essential; macOS: xcode-select --install)`,
    );
  }
  return cached;
}
