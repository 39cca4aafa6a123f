/**
 * The agent's model store (docs/models.md): pulled GGUF files in `<cache dir>/models/<name>.gguf`,
 * each with the SHA-256 it was verified against in `<name>.gguf.sha256`. Specs: a short alias of
 * a known published file, `<owner>/<repo>:<file>` on the model hub (`HF_ENDPOINT`, `HF_TOKEN`
 * honoured), or an http(s) URL.
 */
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { BUILTIN_MODEL_ID } from "./builtin.ts";
import { sha256File } from "./file-hash.ts";

/** Published files under a short name (`--model <alias>` once pulled). */
export const ALIASES: Record<string, string> = {
  "bitnet-b1.58-2B-4T": "microsoft/bitnet-b1.58-2B-4T-gguf:ggml-model-i2_s.gguf",
};

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export class ModelStoreError extends Error {}

export function modelsDir(cacheDir: string): string {
  return join(cacheDir, "models");
}

/** Where a spec is fetched from and the name it is stored under. */
export function pullSource(
  spec: string,
  env: Record<string, string | undefined>,
): { url: string; name: string; headers: Record<string, string> } {
  const headers: Record<string, string> = env.HF_TOKEN ? { authorization: `Bearer ${env.HF_TOKEN}` } : {};
  if (/^https?:\/\//.test(spec)) {
    const name = basename(new URL(spec).pathname).replace(/\.gguf$/, "");
    if (!NAME.test(name)) throw new ModelStoreError(`cannot name a model after the URL ${spec}`);
    return { url: spec, name, headers: {} };
  }
  const alias = ALIASES[spec];
  const repoSpec = alias ?? spec;
  const m = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+):(.+\.gguf)$/.exec(repoSpec);
  if (!m) {
    throw new ModelStoreError(
      `'${spec}' is not a known alias (${Object.keys(ALIASES).join(", ")}), <owner>/<repo>:<file.gguf>, or an http(s) URL`,
    );
  }
  const endpoint = (env.HF_ENDPOINT ?? "https://huggingface.co").replace(/\/+$/, "");
  const file = m[2]!;
  const name = alias ? spec : basename(file).replace(/\.gguf$/, "");
  if (!NAME.test(name)) throw new ModelStoreError(`cannot store a model named '${name}'`);
  return { url: `${endpoint}/${m[1]}/resolve/main/${file.split("/").map(encodeURIComponent).join("/")}`, name, headers };
}

/** The stored file for a name or alias, or null. */
export function storedModel(cacheDir: string, spec: string): string | null {
  if (!NAME.test(spec) || spec === BUILTIN_MODEL_ID) return null;
  const path = join(modelsDir(cacheDir), `${spec}.gguf`);
  return existsSync(path) ? path : null;
}

export interface StoredModel {
  name: string;
  path: string;
  bytes: number;
  /** The SHA-256 it was verified against when pulled, if any. */
  sha256: string | null;
}

export function listStored(cacheDir: string): StoredModel[] {
  const dir = modelsDir(cacheDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".gguf"))
    .sort()
    .map((f) => {
      const path = join(dir, f);
      const shaFile = `${path}.sha256`;
      return {
        name: f.slice(0, -".gguf".length),
        path,
        bytes: statSync(path).size,
        sha256: existsSync(shaFile) ? readFileSync(shaFile, "utf8").trim() : null,
      };
    });
}

export function removeStored(cacheDir: string, name: string): void {
  const path = storedModel(cacheDir, name);
  if (!path) throw new ModelStoreError(`no stored model named '${name}' (see: aria-agent models list)`);
  rmSync(path);
  rmSync(`${path}.sha256`, { force: true });
  rmSync(`${path}.part`, { force: true });
}

/** Recompute the file's SHA-256 and compare with the one it was pulled with. */
export async function verifyStored(cacheDir: string, name: string): Promise<{ ok: boolean; sha256: string; expected: string | null }> {
  const model = listStored(cacheDir).find((m) => m.name === name);
  if (!model) throw new ModelStoreError(`no stored model named '${name}' (see: aria-agent models list)`);
  const sha256 = await sha256File(model.path);
  return { ok: model.sha256 === null || model.sha256 === sha256, sha256, expected: model.sha256 };
}
