/** Turns a model spec from the command line or config into an id and a GGUF path. */
import { existsSync } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, extname, resolve } from "node:path";
import { metaString } from "../../../shared/gguf/metadata.ts";
import { BUILTIN_MODEL_ID, ensureBuiltinModel } from "./builtin.ts";
import { ModelError } from "./errors.ts";
import { readGgufHeaderFile } from "./gguf-file.ts";
import { storedModel } from "./model-store.ts";

/** A model ready to load. */
export interface ResolvedModel {
  /** The id announced to the coordinator: the built-in id, `general.name`, or the file's base name. */
  readonly id: string;
  /** Absolute path of the GGUF file. */
  readonly path: string;
}

/**
 * Resolves `spec` — the built-in model id or a path to a .gguf file. For a path, the header is read
 * and validated; the id is `general.name` if present, else the file name without its extension.
 * Throws ModelError (MODEL_NOT_FOUND, NOT_A_FILE, BAD_MODEL, IO).
 * @example await resolveModel("aria-tiny-random", cacheDir) // { id: "aria-tiny-random", path: ".../models/aria-tiny-random.gguf" }
 */
export async function resolveModel(spec: string, cacheDir: string): Promise<ResolvedModel> {
  if (spec === BUILTIN_MODEL_ID) return { id: BUILTIN_MODEL_ID, path: await ensureBuiltinModel(cacheDir) };
  // A path that exists wins; else a model pulled under that name (aria-agent models pull).
  const stored = existsSync(resolve(spec)) ? null : storedModel(cacheDir, spec);
  const path = stored ?? resolve(spec);
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ModelError(
        "MODEL_NOT_FOUND",
        `model file not found: ${path} (give a path to a .gguf file, a pulled model's name, or "${BUILTIN_MODEL_ID}")`,
        {
          cause: e,
        },
      );
    }
    throw new ModelError("IO", `cannot access ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (!info.isFile()) throw new ModelError("NOT_A_FILE", `${path} is not a file (give a path to a .gguf file)`);
  const { file } = await readGgufHeaderFile(path);
  let name: string | undefined;
  try {
    name = metaString(file.metadata, "general.name")?.trim();
  } catch {
    name = undefined; // a non-string general.name is ignored, not fatal
  }
  return { id: name || basename(path, extname(path)), path };
}
