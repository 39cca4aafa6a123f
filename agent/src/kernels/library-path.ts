/** Where the native kernels library is: an explicit override first, then the in-repo build. */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SUFFIX: Partial<Record<NodeJS.Platform, string>> = { darwin: "dylib", linux: "so" };

/** Path of libaria for this platform; `override` (from ARIA_KERNELS_LIB) wins when set. */
export function kernelLibraryPath(override: string | undefined): string {
  if (override) return override;
  const suffix = SUFFIX[process.platform] ?? "so";
  return fileURLToPath(new URL(`../../../kernels/build/${process.platform}-${process.arch}/libaria.${suffix}`, import.meta.url));
}

export function kernelLibraryExists(path: string): boolean {
  return existsSync(path);
}
