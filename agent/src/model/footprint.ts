/**
 * What a layer range of a model holds in memory, from the GGUF header alone (docs/models.md,
 * "Loading"): each layer's tensors, the embedding on the first stage, the final norm and the
 * head on the last — the head requantized to Q8_0 when the agent asks for that, and no second
 * copy of a tied embedding when that head is Q8_0. The same accounting the native range load
 * does (docs/kernels-abi.md, "Range loads"), so an agent can choose its layers before loading.
 */
import { metaInteger, metaString } from "../../../shared/gguf/metadata.ts";
import type { GgufFile } from "../../../shared/gguf/reader.ts";

/** Q8_0: 32 values in 34 bytes (an f16 scale and 32 int8). */
const Q8_0_BYTES_PER_32 = 34;
/** Each tensor copy starts on a cache line. */
const ALIGN = 64;

export interface ModelFootprint {
  readonly nLayers: number;
  /** Bytes of blk.N.* per layer. */
  readonly layerBytes: readonly number[];
  /** token_embd: held by the first stage. */
  readonly embeddingBytes: number;
  /** The final norm (as f32). */
  readonly outputNormBytes: number;
  /** The head as held by the last stage (a tied head held as-is is the embedding: 0 here). */
  readonly headBytes: number;
  /** A tied head kept in its file type: the last stage holds the embedding too. */
  readonly tiedHeadAsIs: boolean;
}

const aligned = (n: number) => Math.ceil(n / ALIGN) * ALIGN;

/** The footprint of `file` for an agent loading its head `head` ("q8_0": requantized; "file": as stored). */
export function footprintOf(file: GgufFile, head: "q8_0" | "file"): ModelFootprint {
  const arch = metaString(file.metadata, "general.architecture");
  const nLayers = arch === undefined ? undefined : metaInteger(file.metadata, `${arch}.block_count`);
  if (nLayers === undefined || !Number.isInteger(nLayers) || nLayers < 1)
    throw new Error("the file does not say how many layers the model has");
  const layerBytes = new Array<number>(nLayers).fill(0);
  let embeddingBytes = 0;
  let outputNorm = 0;
  let output: { bytes: number; elements: number } | null = null;
  let embedElements = 0;
  for (const t of file.tensors) {
    // Norms are held as f32 in one array (not copied as tensors); everything else as a copy
    // starting on a cache line.
    const norm = t.name.endsWith("norm.weight");
    const bytes = norm ? 4 * t.nElements : aligned(t.nBytes ?? 0);
    const layer = /^blk\.(\d+)\./.exec(t.name);
    if (layer) {
      const l = Number(layer[1]);
      if (l < nLayers) layerBytes[l]! += bytes;
    } else if (t.name === "token_embd.weight") {
      embeddingBytes = bytes;
      embedElements = t.nElements;
    } else if (t.name === "output_norm.weight") outputNorm = bytes;
    else if (t.name === "output.weight") output = { bytes, elements: t.nElements };
  }
  const headElements = output?.elements ?? embedElements;
  const headBytes = head === "q8_0" ? aligned((headElements / 32) * Q8_0_BYTES_PER_32) : (output?.bytes ?? 0);
  return {
    nLayers,
    layerBytes,
    embeddingBytes,
    outputNormBytes: outputNorm,
    headBytes,
    tiedHeadAsIs: output === null && head === "file",
  };
}

/** Bytes a range [layerBegin, layerEnd) holds. */
export function rangeBytes(f: ModelFootprint, range: { layerBegin: number; layerEnd: number }): number {
  let n = f.outputNormBytes; // its slot in the norm array is kept by every range
  for (let l = range.layerBegin; l < range.layerEnd; l++) n += f.layerBytes[l] ?? 0;
  const first = range.layerBegin === 0;
  const last = range.layerEnd === f.nLayers;
  if (first || (last && f.tiedHeadAsIs)) n += f.embeddingBytes;
  if (last) n += f.headBytes;
  return n;
}

/** The largest layer's bytes (what one more layer may cost anywhere in the model). */
export function largestLayer(f: ModelFootprint): number {
  return Math.max(...f.layerBytes);
}
