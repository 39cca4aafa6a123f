/**
 * The TQ2_0 benchmark file with its tied F16 embedding/head stored as Q8_0 instead, so llama.cpp
 * runs with a Q8_0 output head too: ARIA requantizes the F16 head to Q8_0 at load by default, and
 * a like-for-like comparison needs the peer reading the same 348.9 MB head rather than 656.7 MB.
 *
 *   bun benchmarks/kernels/q8-head-twin.ts SRC.gguf DST.gguf   -> writes DST unless it is current
 *
 * Every other tensor and all metadata are copied byte for byte. Q8_0 as ggml's reference
 * quantizer writes it (and aria_model_load_ex): per 32 values d = max|x| / 127 stored as f16,
 * q = round(x / d) (half away from zero) in int8.
 */
import { closeSync, existsSync, openSync, readSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { readGgufHeaderFile } from "../../agent/src/model/gguf-file.ts";
import { GgmlType } from "../../shared/gguf/constants.ts";
import { f16ToF32, f32ToF16 } from "../../shared/gguf/f16.ts";
import { type GgufTensorSpec, writeGgufHeader } from "../../shared/gguf/writer.ts";

const HEAD = "token_embd.weight";
const QK8_0 = 32;
const Q8_0_BLOCK_BYTES = 34;

/** One row of f16 values as Q8_0 blocks. */
export function quantizeRowQ8_0(f16: Uint16Array, out: Uint8Array): void {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const x = new Float32Array(QK8_0);
  for (let b = 0; b < f16.length / QK8_0; b++) {
    let amax = 0;
    for (let j = 0; j < QK8_0; j++) {
      x[j] = f16ToF32(f16[b * QK8_0 + j]!);
      amax = Math.max(amax, Math.abs(x[j]!));
    }
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const at = b * Q8_0_BLOCK_BYTES;
    view.setUint16(at, f32ToF16(d), true);
    for (let j = 0; j < QK8_0; j++) {
      const v = Math.fround(x[j]! * id);
      view.setInt8(at + 2 + j, Math.sign(v) * Math.round(Math.abs(v)));
    }
  }
}

function readAt(fd: number, length: number, position: number): Uint8Array {
  const buf = new Uint8Array(length);
  let at = 0;
  while (at < length) {
    const n = readSync(fd, buf, at, length - at, position + at);
    if (n === 0) throw new Error(`unexpected end of file at ${position + at}`);
    at += n;
  }
  return buf;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

/** Writes `dst` from `src` unless `dst` is newer than `src`; returns `dst`. */
export async function ensureQ8HeadTwin(src: string, dst: string): Promise<string> {
  if (existsSync(dst) && statSync(dst).mtimeMs >= statSync(src).mtimeMs) return dst;
  const { file } = await readGgufHeaderFile(src);
  const head = file.tensors.find((t) => t.name === HEAD);
  if (!head || head.type !== GgmlType.F16) throw new Error(`${src}: ${HEAD} is not an F16 tensor`);
  const specs: GgufTensorSpec[] = file.tensors.map((t) => ({ name: t.name, type: t.name === HEAD ? GgmlType.Q8_0 : t.type, dims: t.dims }));
  const layout = writeGgufHeader([...file.metadata.entries()], specs);
  const tmp = `${dst}.tmp-${process.pid}`;
  const inFd = openSync(src, "r");
  const outFd = openSync(tmp, "w", 0o644);
  try {
    writeAll(outFd, layout.header);
    let written = 0;
    file.tensors.forEach((t, i) => {
      const place = layout.tensors[i]!;
      if (place.offset > written) writeAll(outFd, new Uint8Array(place.offset - written)); // alignment padding
      const from = file.dataOffset + t.offset;
      if (t.name === HEAD) {
        const [nEmbd, nRows] = t.dims as [number, number];
        const row = new Uint8Array((nEmbd / QK8_0) * Q8_0_BLOCK_BYTES);
        const ROWS = 256;
        for (let r = 0; r < nRows; r += ROWS) {
          const n = Math.min(ROWS, nRows - r);
          const raw = readAt(inFd, n * nEmbd * 2, from + r * nEmbd * 2);
          const f16 = new Uint16Array(raw.buffer, 0, n * nEmbd);
          const out = new Uint8Array(n * row.length);
          for (let k = 0; k < n; k++) {
            quantizeRowQ8_0(f16.subarray(k * nEmbd, (k + 1) * nEmbd), row);
            out.set(row, k * row.length);
          }
          writeAll(outFd, out);
        }
      } else {
        const CHUNK = 16 << 20;
        for (let at = 0; at < t.nBytes!; at += CHUNK) writeAll(outFd, readAt(inFd, Math.min(CHUNK, t.nBytes! - at), from + at));
      }
      written = place.offset + place.nBytes;
    });
    if (layout.dataBytes > written) writeAll(outFd, new Uint8Array(layout.dataBytes - written));
  } catch (e) {
    closeSync(outFd);
    rmSync(tmp, { force: true });
    throw e;
  } finally {
    closeSync(inFd);
  }
  closeSync(outFd);
  renameSync(tmp, dst);
  return dst;
}

if (import.meta.main) {
  const [src, dst] = process.argv.slice(2);
  if (!src || !dst) throw new Error("usage: bun benchmarks/kernels/q8-head-twin.ts SRC.gguf DST.gguf");
  const started = performance.now();
  await ensureQ8HeadTwin(src, dst);
  process.stderr.write(`Q8_0-head twin ready in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${JSON.stringify({ path: dst })}\n`);
}
