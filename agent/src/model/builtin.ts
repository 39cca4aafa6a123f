/**
 * The built-in model on disk: `<cacheDir>/models/aria-tiny-random.gguf`, generated on first use.
 * The file is written to a temporary name, synced, then renamed into place, so readers see either
 * no file or a complete one — never half a file, even if the process dies mid-write.
 */
import { randomBytes } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { metaInteger, metaString } from "../../../shared/gguf/metadata.ts";
import { BUILTIN_GENERATOR_VERSION, BUILTIN_MODEL_ID, buildBuiltinModel } from "./builtin-model.ts";
import { ModelError } from "./errors.ts";
import { readGgufHeaderFile } from "./gguf-file.ts";

export { BUILTIN_MODEL_ID } from "./builtin-model.ts";

/** Environment variables that choose the cache directory. */
export interface CacheEnv {
  readonly ARIA_CACHE_DIR?: string | undefined;
  readonly XDG_CACHE_HOME?: string | undefined;
}

/**
 * The cache directory: `$ARIA_CACHE_DIR`, else `$XDG_CACHE_HOME/aria`, else `~/.cache/aria`.
 * Empty values count as unset, and a relative XDG_CACHE_HOME is ignored (XDG spec).
 * @example defaultCacheDir(process.env) // "/home/me/.cache/aria"
 */
export function defaultCacheDir(env: CacheEnv, home: string = homedir()): string {
  if (env.ARIA_CACHE_DIR) return env.ARIA_CACHE_DIR;
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, "aria");
  return join(home, ".cache", "aria");
}

/** Where the built-in model lives inside `cacheDir`. */
export function builtinModelPath(cacheDir: string): string {
  return join(cacheDir, "models", `${BUILTIN_MODEL_ID}.gguf`);
}

/** True if `path` holds a complete built-in model from this generator version. */
async function isCurrent(path: string): Promise<boolean> {
  try {
    const { file } = await readGgufHeaderFile(path);
    return (
      metaString(file.metadata, "general.name") === BUILTIN_MODEL_ID &&
      metaInteger(file.metadata, "aria.builtin.version") === BUILTIN_GENERATOR_VERSION
    );
  } catch {
    return false; // missing, truncated or foreign: regenerate
  }
}

async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    const handle = await open(tmp, "w", 0o644);
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new ModelError("IO", `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}

const pending = new Map<string, Promise<string>>();

/**
 * Returns the path of the built-in model, generating it first if it is missing or stale.
 * Concurrent calls in one process share one generation; separate processes may both generate,
 * which is harmless because the bytes are identical and the rename is atomic.
 * @example const path = await ensureBuiltinModel(defaultCacheDir(process.env))
 */
export function ensureBuiltinModel(cacheDir: string): Promise<string> {
  const path = builtinModelPath(cacheDir);
  const inFlight = pending.get(path);
  if (inFlight) return inFlight;
  const run = (async () => {
    if (await isCurrent(path)) return path;
    try {
      await mkdir(join(cacheDir, "models"), { recursive: true });
    } catch (e) {
      throw new ModelError("IO", `cannot create ${join(cacheDir, "models")}: ${(e as Error).message}`, { cause: e });
    }
    await writeAtomically(path, buildBuiltinModel());
    return path;
  })().finally(() => pending.delete(path));
  pending.set(path, run);
  return run;
}
