// llama.cpp capped to one CPU tier, like ARIA under ARIA_CPU: node-llama-cpp's prebuilt binaries
// ship one ggml CPU backend per x86 tier (libggml-cpu-haswell.so is AVX2 + FMA + F16C, …) and
// ggml loads the best one this CPU can run. A copy of the binaries folder holding only the chosen
// variant, reached through a node_modules of symlinks run with --preserve-symlinks, makes that
// variant the only choice; llama.cpp's system_info (in the JSON) lists the features it uses.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** ARIA_CPU tier -> the ggml CPU variant of the same instruction set. */
export const LLAMA_VARIANT = { avx2: "haswell", avxvnni: "alderlake", scalar: "x64" };

/**
 * Builds (once per node-llama-cpp version) `<dir>/node-llama-cpp-<variant>/` and returns the
 * command that runs llama.mjs with only that ggml CPU backend available.
 */
export function llamaCommandFor(root, dir, variant) {
  const modules = join(root, "node_modules");
  const platform = `${process.platform}-${process.arch}`;
  const bins = join(modules, "@node-llama-cpp", platform, "bins", platform);
  const backend = `libggml-cpu-${variant}.so`;
  if (!existsSync(join(bins, backend))) throw new Error(`node-llama-cpp has no ${backend} in ${bins}`);
  const version = JSON.parse(readFileSync(join(modules, "node-llama-cpp", "package.json"), "utf8")).version;
  const tree = join(dir, `node-llama-cpp-${variant}`);
  const stamp = join(tree, "version");
  if (!existsSync(stamp) || readFileSync(stamp, "utf8") !== version) {
    rmSync(tree, { recursive: true, force: true });
    const own = join(tree, "node_modules", "@node-llama-cpp", platform);
    mkdirSync(join(own, "bins", platform), { recursive: true });
    for (const entry of readdirSync(modules)) {
      if (entry !== "@node-llama-cpp") symlinkSync(join(modules, entry), join(tree, "node_modules", entry));
    }
    const pkg = join(modules, "@node-llama-cpp", platform);
    for (const entry of readdirSync(pkg)) if (entry !== "bins") symlinkSync(join(pkg, entry), join(own, entry));
    for (const file of readdirSync(bins)) {
      if (file.startsWith("libggml-cpu-") && file !== backend) continue;
      copyFileSync(join(bins, file), join(own, "bins", platform, file));
    }
    symlinkSync(join(root, "benchmarks", "kernels", "llama.mjs"), join(tree, "llama.mjs"));
    writeFileSync(stamp, version);
  }
  return {
    command: process.execPath,
    args: ["--preserve-symlinks", "--preserve-symlinks-main", join(tree, "llama.mjs")],
  };
}
