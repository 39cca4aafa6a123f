/**
 * The pipeline benchmark's mid-size model: the built-in model's recipe (random ternary weights,
 * the same tokenizer) at a shape where compute per hop is no longer negligible.
 */
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRandomModel, type RandomModelShape } from "../../agent/src/model/builtin-model.ts";

export const MID_SIZE_ID = "aria-bench-mid-random";
export const MID_SIZE_SHAPE: RandomModelShape = {
  nEmbd: 1024,
  nLayer: 12,
  nHead: 8,
  nHeadKv: 2,
  headDim: 128,
  nFf: 2816,
  nCtx: 1024,
  ropeBase: 10000,
  rmsEps: 1e-5,
  nMerges: 251,
};

/** Path of the model in `dir`, generated on first use (temp file + rename). */
export async function ensureMidSizeModel(dir: string): Promise<{ id: string; path: string }> {
  const path = join(dir, `${MID_SIZE_ID}.gguf`);
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, buildRandomModel(MID_SIZE_ID, MID_SIZE_SHAPE));
    renameSync(tmp, path);
  }
  return { id: MID_SIZE_ID, path };
}
