/**
 * The published model families at their exact shapes (tests/families/published-layouts.ts:
 * bitnet.cpp's I2_S layout, random ternary weights), generated once into the benchmark cache for
 * the memory benchmark and the report.
 *
 *   bun benchmarks/family-models.ts DIR KEY[,KEY…] [--small]   -> {"KEY": "path", …} on stdout
 */
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { FAMILIES, type FamilyLayout, writeFamilyFile } from "../tests/families/published-layouts.ts";

/** Keys the benchmarks use for the families of the predecessor's table. */
export const FAMILY_KEYS = {
  large: "1bitLLM/bitnet_b1_58-large",
  "2b4t": "microsoft/bitnet-b1.58-2B-4T-gguf",
  "8b": "HF1BitLLM/Llama3-8B-1.58-100B-tokens",
} as const;
export type FamilyKey = keyof typeof FAMILY_KEYS;

export function family(key: FamilyKey): FamilyLayout {
  const f = FAMILIES.find((x) => x.model === FAMILY_KEYS[key]);
  if (!f) throw new Error(`no published layout for ${key}`);
  return f;
}

/** The family's file in `dir` (the tiny shape with `small`), written unless it is there. */
export function ensureFamilyModel(dir: string, key: FamilyKey, small = false): string {
  const f = family(key);
  const path = join(dir, `aria-family-${key}${small ? "-small" : ""}-i2_s.gguf`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    writeFamilyFile(f, small ? f.small : f.shape, path);
  }
  return path;
}

if (import.meta.main) {
  const [dir, keys, flag] = process.argv.slice(2);
  if (!dir || !keys) throw new Error("usage: bun benchmarks/family-models.ts DIR KEY[,KEY…] [--small]");
  const out: Record<string, string> = {};
  for (const key of keys.split(",")) {
    if (!(key in FAMILY_KEYS)) throw new Error(`unknown family ${key} (${Object.keys(FAMILY_KEYS).join(", ")})`);
    out[key] = ensureFamilyModel(dir, key as FamilyKey, flag === "--small");
  }
  process.stdout.write(`${JSON.stringify(out)}\n`);
}
