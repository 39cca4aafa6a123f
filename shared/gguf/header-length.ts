/**
 * How many bytes a GGUF v2/v3 header (metadata and tensor infos) takes, found by walking its
 * lengths without decoding a single string: a file reader reads the first bytes, asks how many
 * it needs, reads that much, and parses once. (Parsing every growing prefix instead decodes a
 * 128k-token vocabulary again and again, ~50 MB of garbage at the reader's peak.)
 */
import { GGUF_MAGIC, GGUF_VALUE_TYPE_SIZE, GgufValueType } from "./constants.ts";

/** Walk limits: past these the full parse reports the problem by name. */
const MAX_ARRAY_DEPTH = 8;

/**
 * The header's byte length (through the last tensor info), or `{ needed }`: at least that many
 * bytes from the file start are required to go further. A malformed header gives its length so
 * far or `null`; the full parser then names the problem.
 */
export function ggufHeaderLength(bytes: Uint8Array): { length: number } | { needed: number } | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let short = 0; // > 0: bytes needed
  const need = (n: number): boolean => {
    if (at + n <= bytes.length) return true;
    short = at + n;
    return false;
  };
  const u32 = (): number | null => {
    if (!need(4)) return null;
    const v = view.getUint32(at, true);
    at += 4;
    return v;
  };
  const u64 = (): number | null => {
    if (!need(8)) return null;
    const v = view.getBigUint64(at, true);
    at += 8;
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.POSITIVE_INFINITY : Number(v);
  };
  const skip = (n: number): boolean => {
    if (!Number.isFinite(n)) return false;
    if (!need(n)) return false;
    at += n;
    return true;
  };
  const string = (): boolean => {
    const n = u64();
    return n !== null && skip(n);
  };
  const value = (type: number, depth: number): boolean => {
    const fixed = GGUF_VALUE_TYPE_SIZE[type];
    if (fixed !== undefined) return skip(fixed);
    if (type === GgufValueType.STRING) return string();
    if (type !== GgufValueType.ARRAY || depth >= MAX_ARRAY_DEPTH) return false;
    const elem = u32();
    const count = u64();
    if (elem === null || count === null) return false;
    const elemFixed = GGUF_VALUE_TYPE_SIZE[elem];
    if (elemFixed !== undefined) return skip(elemFixed * count);
    for (let i = 0; i < count; i++) if (!value(elem, depth + 1)) return false;
    return true;
  };

  const magic = u32();
  const version = u32();
  if (magic === null || version === null) return { needed: short };
  if (magic !== GGUF_MAGIC || (version !== 2 && version !== 3)) return null;
  const nTensors = u64();
  const nKv = u64();
  if (nTensors === null || nKv === null) return { needed: short };
  for (let i = 0; i < nKv; i++) {
    if (!string()) return short ? { needed: short } : null;
    const type = u32();
    if (type === null || !value(type, 0)) return short ? { needed: short } : null;
  }
  for (let i = 0; i < nTensors; i++) {
    if (!string()) return short ? { needed: short } : null;
    const nDims = u32();
    if (nDims === null || nDims > 8 || !skip(8 * nDims + 4 + 8)) return short ? { needed: short } : null;
  }
  return { length: at };
}
