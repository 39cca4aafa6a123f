/**
 * The binary activation frame (docs/pipeline.md): hidden-state rows between pipeline stages,
 * f32, never rounded. The Swarm routes on the header alone and forwards the bytes unchanged.
 */
import { crc32 } from "../crypto/crc32.ts";

export const FRAME_MAGIC = 0x41524941; // "ARIA" little-endian
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 32;
export const DTYPE_F32 = 1;
/** Flag: the last rows of a feed — the last stage samples after them. */
export const FLAG_FINAL = 1;

export interface FrameHeader {
  session: number;
  fromStage: number;
  flags: number;
  pos0: number;
  rows: number;
  width: number;
}

/** A decoded frame: header plus a view of the rows ([rows][width]). */
export interface Frame extends FrameHeader {
  data: Float32Array;
}

/** Encode rows into a frame. `data.length` must be rows × width. */
export function encodeFrame(header: FrameHeader, data: Float32Array): Uint8Array<ArrayBuffer> {
  if (data.length !== header.rows * header.width) throw new RangeError("frame data length differs from rows × width");
  const out = new Uint8Array(FRAME_HEADER_BYTES + data.byteLength);
  const payload = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  out.set(payload, FRAME_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setUint32(0, FRAME_MAGIC, true);
  v.setUint16(4, FRAME_VERSION, true);
  v.setUint16(6, DTYPE_F32, true);
  v.setUint32(8, header.session, true);
  v.setUint16(12, header.fromStage, true);
  v.setUint16(14, header.flags, true);
  v.setInt32(16, header.pos0, true);
  v.setUint32(20, header.rows, true);
  v.setUint32(24, header.width, true);
  v.setUint32(28, crc32(out.subarray(FRAME_HEADER_BYTES)), true);
  return out;
}

/** The routing fields, read without touching the payload; null when this is no frame. */
export function peekFrameHeader(bytes: ArrayBuffer | Uint8Array): FrameHeader | null {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (u8.byteLength < FRAME_HEADER_BYTES) return null;
  const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (v.getUint32(0, true) !== FRAME_MAGIC || v.getUint16(4, true) !== FRAME_VERSION) return null;
  return {
    session: v.getUint32(8, true),
    fromStage: v.getUint16(12, true),
    flags: v.getUint16(14, true),
    pos0: v.getInt32(16, true),
    rows: v.getUint32(20, true),
    width: v.getUint32(24, true),
  };
}

/** Decode and verify a frame (magic, version, dtype, sizes, checksum); throws with the reason. */
export function decodeFrame(bytes: ArrayBuffer | Uint8Array): Frame {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const header = peekFrameHeader(u8);
  if (!header) throw new Error("not an activation frame (bad magic, version or length)");
  const v = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (v.getUint16(6, true) !== DTYPE_F32) throw new Error(`unsupported frame dtype ${v.getUint16(6, true)}`);
  const expected = FRAME_HEADER_BYTES + header.rows * header.width * 4;
  if (u8.byteLength !== expected) throw new Error(`frame is ${u8.byteLength} bytes, its header says ${expected}`);
  const payload = u8.subarray(FRAME_HEADER_BYTES);
  if (crc32(payload) !== v.getUint32(28, true)) throw new Error("frame checksum mismatch");
  // Copy: the payload may not be 4-byte aligned inside the received buffer.
  const data = new Float32Array(header.rows * header.width);
  new Uint8Array(data.buffer).set(payload);
  return { ...header, data };
}
