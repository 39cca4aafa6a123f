/**
 * GGUF v2/v3 header reader: magic, version, every metadata value and every tensor info, from a
 * Uint8Array that may hold only the beginning of the file. Every read is bounds-checked; any
 * problem throws a GgufError (TRUNCATED carries how many bytes are needed to get further).
 */
import {
  alignUp,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_MAX_TENSOR_NAME_BYTES,
  type GgmlTypeInfo,
  GgufValueType,
  ggmlTensorBytes,
  ggufValueTypeName,
  resolveGgmlType,
} from "./constants.ts";
import { GgufError } from "./errors.ts";
import type { GgufArray, GgufArrayItems, GgufMetadata, GgufValue } from "./metadata.ts";
import { metaString } from "./metadata.ts";

/** One tensor's header entry. */
export interface GgufTensorInfo {
  readonly name: string;
  /** ggml shape, ne0 (the contiguous dimension) first. */
  readonly dims: readonly number[];
  /** ggml type id as stored. */
  readonly type: number;
  /** Traits of `type` (resolved with the file's architecture), `undefined` if unknown. */
  readonly typeInfo: GgmlTypeInfo | undefined;
  /** Offset of the data relative to the start of the data section; a multiple of the alignment. */
  readonly offset: number;
  readonly nElements: number;
  /** Byte size of the data, `undefined` when the type has no known size. */
  readonly nBytes: number | undefined;
}

/** A parsed GGUF header. */
export interface GgufFile {
  readonly version: number;
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensorInfo[];
  readonly alignment: number;
  /** Absolute file offset of the data section (header end rounded up to the alignment). */
  readonly dataOffset: number;
  /** `general.architecture`, if present. */
  readonly architecture: string | undefined;
}

/** Options for {@link readGguf}. */
export interface ReadGgufOptions {
  /**
   * Total size of the file. When given, every tensor with a known size must lie inside the file and
   * no two tensors may overlap (BAD_TENSOR otherwise).
   */
  readonly fileSize?: number;
}

// Sanity limits: anything beyond these is a corrupt or hostile file, not a short read.
const MAX_STRING_BYTES = 2 ** 30;
const MAX_ARRAY_ITEMS = 2 ** 30;
const MAX_COUNT = 2 ** 24;
const MAX_ARRAY_DEPTH = 4;

const utf8Strict = new TextDecoder("utf-8", { fatal: true });
const utf8Lenient = new TextDecoder("utf-8");
/** For joined string arrays: a U+FEFF opening the first string is kept, so offsets stay exact. */
const utf8Joined = new TextDecoder("utf-8", { ignoreBOM: true });
const T = GgufValueType;

/** A cursor over the bytes; every read checks bounds first. */
class Cursor {
  pos = 0;
  readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  /** Throws TRUNCATED unless `n` more bytes are available; returns the position they start at. */
  take(n: number, what: string): number {
    const at = this.pos;
    if (at + n > this.bytes.length) {
      throw new GgufError("TRUNCATED", `${what} at offset ${at} needs ${n} bytes, but the input ends at ${this.bytes.length}`, at + n);
    }
    this.pos += n;
    return at;
  }

  u32(what: string): number {
    return this.view.getUint32(this.take(4, what), true);
  }

  /** A u64 count, length or offset; above `limit` means a corrupt file, not a short read. */
  size(what: string, limit: number, code: "BAD_METADATA" | "BAD_TENSOR"): number {
    const at = this.pos;
    const v = this.view.getBigUint64(this.take(8, what), true);
    if (v > BigInt(limit)) throw new GgufError(code, `${what} at offset ${at} is ${v}, above the limit ${limit}`);
    return Number(v);
  }

  /** A gguf_string. Keys and tensor names must be valid UTF-8; values are decoded leniently. */
  string(what: string, strict: boolean): string {
    const len = this.size(`${what} length`, MAX_STRING_BYTES, "BAD_METADATA");
    const at = this.take(len, what);
    const slice = this.bytes.subarray(at, at + len);
    if (!strict) return decodeLenient(slice);
    try {
      return utf8Strict.decode(slice);
    } catch {
      throw new GgufError("BAD_METADATA", `${what} at offset ${at} is not valid UTF-8`);
    }
  }
}

/** Decodes UTF-8; pure-ASCII short strings (most vocab entries) skip TextDecoder's call overhead. */
function decodeLenient(slice: Uint8Array): string {
  if (slice.length <= 32) {
    let ascii = true;
    for (let i = 0; i < slice.length; i++) if ((slice[i] as number) >= 0x80) ascii = false;
    if (ascii) return String.fromCharCode(...slice);
  }
  return utf8Lenient.decode(slice);
}

/**
 * UTF-16 length of a complete, valid UTF-8 sequence run, or -1 when it is not one (WHATWG's
 * rules: no overlongs, no surrogates, nothing above U+10FFFF, no sequence cut at the end).
 */
function utf16Length(b: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = start; i < end; ) {
    const x = b[i] as number;
    let len: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (x < 0x80) len = 1;
    else if (x >= 0xc2 && x <= 0xdf) len = 2;
    else if (x >= 0xe0 && x <= 0xef) {
      len = 3;
      if (x === 0xe0) lo = 0xa0;
      if (x === 0xed) hi = 0x9f;
    } else if (x >= 0xf0 && x <= 0xf4) {
      len = 4;
      if (x === 0xf0) lo = 0x90;
      if (x === 0xf4) hi = 0x8f;
    } else return -1;
    if (i + len > end) return -1;
    for (let k = 1; k < len; k++) {
      const y = b[i + k] as number;
      if (y < (k === 1 ? lo : 0x80) || y > (k === 1 ? hi : 0xbf)) return -1;
    }
    n += len === 4 ? 2 : 1;
    i += len;
  }
  return n;
}

/**
 * A string array decoded in one go: the valid strings' bytes are joined and decoded once, and each
 * string is a slice of that text (a 128k-token vocabulary then costs ~14 MB of memory instead of
 * ~35 MB as one decoded string each); an invalid one is decoded alone (leniently), as before.
 */
function readStringArray(c: Cursor, what: string, count: number): string[] {
  const starts = new Float64Array(count);
  const lens = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    const len = c.size(`${what}[${i}] length`, MAX_STRING_BYTES, "BAD_METADATA");
    starts[i] = c.take(len, `${what}[${i}]`);
    lens[i] = len;
    total += len;
  }
  const joined = new Uint8Array(total);
  const charEnds = new Float64Array(count); // -1: decode alone
  let at = 0;
  let chars = 0;
  for (let i = 0; i < count; i++) {
    const from = starts[i] as number;
    const to = from + (lens[i] as number);
    const n = utf16Length(c.bytes, from, to);
    if (n < 0) {
      charEnds[i] = -1;
      continue;
    }
    joined.set(c.bytes.subarray(from, to), at);
    at += to - from;
    chars += n;
    charEnds[i] = chars;
  }
  const text = utf8Joined.decode(joined.subarray(0, at));
  const out: string[] = new Array(count);
  let prev = 0;
  for (let i = 0; i < count; i++) {
    const end = charEnds[i] as number;
    if (end < 0) {
      const from = starts[i] as number;
      out[i] = decodeLenient(c.bytes.subarray(from, from + (lens[i] as number)));
      continue;
    }
    out[i] = text.slice(prev, end);
    prev = end;
  }
  return out;
}

type NumReader = (v: DataView, at: number) => number;
type BigReader = (v: DataView, at: number) => bigint;

const NUMBER_READERS: Readonly<
  Record<number, { size: number; read: NumReader; make: (n: number) => { [i: number]: number } & GgufArrayItems }>
> = {
  [T.UINT8]: { size: 1, read: (v, at) => v.getUint8(at), make: (n) => new Uint8Array(n) },
  [T.INT8]: { size: 1, read: (v, at) => v.getInt8(at), make: (n) => new Int8Array(n) },
  [T.UINT16]: { size: 2, read: (v, at) => v.getUint16(at, true), make: (n) => new Uint16Array(n) },
  [T.INT16]: { size: 2, read: (v, at) => v.getInt16(at, true), make: (n) => new Int16Array(n) },
  [T.UINT32]: { size: 4, read: (v, at) => v.getUint32(at, true), make: (n) => new Uint32Array(n) },
  [T.INT32]: { size: 4, read: (v, at) => v.getInt32(at, true), make: (n) => new Int32Array(n) },
  [T.FLOAT32]: { size: 4, read: (v, at) => v.getFloat32(at, true), make: (n) => new Float32Array(n) },
  [T.FLOAT64]: { size: 8, read: (v, at) => v.getFloat64(at, true), make: (n) => new Float64Array(n) },
};

const BIGINT_READERS: Readonly<Record<number, { read: BigReader; make: (n: number) => BigUint64Array | BigInt64Array }>> = {
  [T.UINT64]: { read: (v, at) => v.getBigUint64(at, true), make: (n) => new BigUint64Array(n) },
  [T.INT64]: { read: (v, at) => v.getBigInt64(at, true), make: (n) => new BigInt64Array(n) },
};

function readBool(c: Cursor, what: string): boolean {
  const at = c.take(1, what);
  const b = c.view.getUint8(at);
  if (b > 1) throw new GgufError("BAD_METADATA", `${what} at offset ${at} is a BOOL with byte value ${b}`);
  return b === 1;
}

function readValue(c: Cursor, type: number, what: string, depth: number): GgufValue {
  const num = NUMBER_READERS[type];
  if (num) return { type, value: num.read(c.view, c.take(num.size, what)) } as GgufValue;
  const big = BIGINT_READERS[type];
  if (big) return { type, value: big.read(c.view, c.take(8, what)) } as GgufValue;
  if (type === T.BOOL) return { type, value: readBool(c, what) };
  if (type === T.STRING) return { type, value: c.string(what, false) };
  if (type === T.ARRAY) return { type, value: readArray(c, what, depth + 1) };
  throw new GgufError("BAD_METADATA", `${what} has unknown value type ${type}`);
}

function readArray(c: Cursor, what: string, depth: number): GgufArray {
  if (depth > MAX_ARRAY_DEPTH) throw new GgufError("BAD_METADATA", `${what} nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
  const itemType = c.u32(`${what} element type`);
  const count = c.size(`${what} element count`, MAX_ARRAY_ITEMS, "BAD_METADATA");
  const num = NUMBER_READERS[itemType];
  if (num) {
    const start = c.take(count * num.size, `${what} (${count} × ${ggufValueTypeName(itemType)})`);
    const out = num.make(count);
    for (let i = 0; i < count; i++) out[i] = num.read(c.view, start + i * num.size);
    return { itemType, items: out };
  }
  const big = BIGINT_READERS[itemType];
  if (big) {
    const start = c.take(count * 8, `${what} (${count} × ${ggufValueTypeName(itemType)})`);
    const out = big.make(count);
    for (let i = 0; i < count; i++) out[i] = big.read(c.view, start + i * 8);
    return { itemType, items: out };
  }
  if (itemType === T.BOOL) {
    const out: boolean[] = [];
    for (let i = 0; i < count; i++) out.push(readBool(c, `${what}[${i}]`));
    return { itemType, items: out };
  }
  if (itemType === T.STRING) {
    // Each string needs at least its 8-byte length: report the whole minimum at once.
    c.take(count * 8, `${what} (${count} strings)`);
    c.pos -= count * 8;
    return { itemType, items: readStringArray(c, what, count) };
  }
  if (itemType === T.ARRAY) {
    const out: GgufArray[] = [];
    for (let i = 0; i < count; i++) out.push(readArray(c, `${what}[${i}]`, depth + 1));
    return { itemType, items: out };
  }
  throw new GgufError("BAD_METADATA", `${what} has unknown element type ${itemType}`);
}

function readHeaderStart(c: Cursor): { version: number; tensorCount: number; kvCount: number } {
  const magic = c.u32("magic");
  if (magic !== GGUF_MAGIC) {
    throw new GgufError("BAD_MAGIC", `not a GGUF file: magic is 0x${magic.toString(16).padStart(8, "0")}, expected 0x46554747 ("GGUF")`);
  }
  const version = c.u32("version");
  if (version !== 2 && version !== 3) {
    const hint = version > 0xffff && (version & 0xffff) === 0 ? " (a big-endian file? only little-endian is supported)" : "";
    throw new GgufError("BAD_VERSION", `unsupported GGUF version ${version}${hint}; versions 2 and 3 are supported`);
  }
  const tensorCount = c.size("tensor count", MAX_COUNT, "BAD_TENSOR");
  const kvCount = c.size("metadata count", MAX_COUNT, "BAD_METADATA");
  return { version, tensorCount, kvCount };
}

function readAlignment(md: GgufMetadata): number {
  const v = md.get("general.alignment");
  if (v === undefined) return GGUF_DEFAULT_ALIGNMENT;
  if (v.type !== T.UINT32) throw new GgufError("BAD_METADATA", `general.alignment must be UINT32, is ${ggufValueTypeName(v.type)}`);
  if (v.value === 0 || (v.value & (v.value - 1)) !== 0) {
    throw new GgufError("BAD_METADATA", `general.alignment must be a power of two, is ${v.value}`);
  }
  return v.value;
}

function readTensorInfo(c: Cursor, index: number, architecture: string | undefined, alignment: number): GgufTensorInfo {
  const name = c.string(`tensor ${index} name`, true);
  if (name.length === 0) throw new GgufError("BAD_TENSOR", `tensor ${index} has an empty name`);
  const nameBytes = new TextEncoder().encode(name).length;
  if (nameBytes > GGUF_MAX_TENSOR_NAME_BYTES) {
    throw new GgufError("BAD_TENSOR", `tensor "${name}" has a ${nameBytes}-byte name; the limit is ${GGUF_MAX_TENSOR_NAME_BYTES}`);
  }
  const nDims = c.u32(`tensor "${name}" dimension count`);
  if (nDims < 1 || nDims > GGUF_MAX_DIMS) {
    throw new GgufError("BAD_TENSOR", `tensor "${name}" has ${nDims} dimensions; 1 to ${GGUF_MAX_DIMS} are allowed`);
  }
  const dims: number[] = [];
  let nElements = 1;
  for (let d = 0; d < nDims; d++) {
    const ne = c.size(`tensor "${name}" dimension ${d}`, Number.MAX_SAFE_INTEGER, "BAD_TENSOR");
    dims.push(ne);
    nElements *= ne;
    if (!Number.isSafeInteger(nElements)) throw new GgufError("BAD_TENSOR", `tensor "${name}" has too many elements`);
  }
  const type = c.u32(`tensor "${name}" type`);
  const offsetAt = c.pos;
  const offset = c.size(`tensor "${name}" offset`, Number.MAX_SAFE_INTEGER, "BAD_TENSOR");
  if (offset % alignment !== 0) {
    throw new GgufError("BAD_TENSOR", `tensor "${name}" offset ${offset} (at ${offsetAt}) is not a multiple of the alignment ${alignment}`);
  }
  const typeInfo = resolveGgmlType(type, architecture);
  let nBytes: number | undefined;
  if (typeInfo) {
    if ((dims[0] as number) % typeInfo.blockSize !== 0) {
      throw new GgufError(
        "BAD_TENSOR",
        `tensor "${name}" of type ${typeInfo.name} has ne0 = ${dims[0]}, not a multiple of its block size ${typeInfo.blockSize}`,
      );
    }
    try {
      nBytes = ggmlTensorBytes(typeInfo, nElements);
    } catch (e) {
      throw new GgufError("BAD_TENSOR", `tensor "${name}": ${(e as Error).message}`);
    }
  }
  return { name, dims, type, typeInfo, offset, nElements, nBytes };
}

/** Checks that every sized tensor lies inside a file of `fileSize` bytes and that none overlap. */
function checkTensorBounds(tensors: readonly GgufTensorInfo[], dataOffset: number, fileSize: number): void {
  const sized = tensors.filter((t) => t.nBytes !== undefined).sort((a, b) => a.offset - b.offset);
  let prevEnd = 0;
  let prevName = "";
  for (const t of sized) {
    const end = t.offset + (t.nBytes as number);
    if (dataOffset + end > fileSize) {
      throw new GgufError(
        "BAD_TENSOR",
        `tensor "${t.name}" data [${dataOffset + t.offset}, ${dataOffset + end}) passes the end of the ${fileSize}-byte file`,
      );
    }
    if (t.offset < prevEnd) throw new GgufError("BAD_TENSOR", `tensor "${t.name}" overlaps tensor "${prevName}"`);
    prevEnd = end;
    prevName = t.name;
  }
}

/**
 * Parses a GGUF header (metadata and tensor infos) from the start of a file.
 * Throws GgufError; for TRUNCATED, `error.needed` is a total byte count that is at least required.
 * @example const file = readGguf(bytes, { fileSize: bytes.length }); metaString(file.metadata, "general.name")
 */
export function readGguf(bytes: Uint8Array, options: ReadGgufOptions = {}): GgufFile {
  const c = new Cursor(bytes);
  const { version, tensorCount, kvCount } = readHeaderStart(c);
  const metadata = new Map<string, GgufValue>();
  for (let i = 0; i < kvCount; i++) {
    const key = c.string(`metadata key ${i}`, true);
    if (key.length === 0) throw new GgufError("BAD_METADATA", `metadata key ${i} is empty`);
    if (metadata.has(key)) throw new GgufError("BAD_METADATA", `metadata key "${key}" appears twice`);
    const type = c.u32(`type of metadata "${key}"`);
    metadata.set(key, readValue(c, type, `metadata "${key}"`, 0));
  }
  const alignment = readAlignment(metadata);
  const architecture = metaString(metadata, "general.architecture");
  const tensors: GgufTensorInfo[] = [];
  const names = new Set<string>();
  for (let i = 0; i < tensorCount; i++) {
    const t = readTensorInfo(c, i, architecture, alignment);
    if (names.has(t.name)) throw new GgufError("BAD_TENSOR", `tensor "${t.name}" appears twice`);
    names.add(t.name);
    tensors.push(t);
  }
  const dataOffset = alignUp(c.pos, alignment);
  if (options.fileSize !== undefined) checkTensorBounds(tensors, dataOffset, options.fileSize);
  return { version, metadata, tensors, alignment, dataOffset, architecture };
}

/** Result of {@link probeGguf}: the header, or how many bytes from the file start are needed. */
export type GgufProbe = { readonly complete: true; readonly file: GgufFile } | { readonly complete: false; readonly needed: number };

/**
 * Like {@link readGguf}, but a too-short input is a normal outcome: it returns how many bytes to
 * supply next instead of throwing. Other problems still throw GgufError.
 * @example let p = probeGguf(head); while (!p.complete) p = probeGguf(await readFirst(Math.max(p.needed, 2 * head.length)))
 */
export function probeGguf(bytes: Uint8Array, options: ReadGgufOptions = {}): GgufProbe {
  try {
    return { complete: true, file: readGguf(bytes, options) };
  } catch (e) {
    if (e instanceof GgufError && e.code === "TRUNCATED" && e.needed !== undefined) return { complete: false, needed: e.needed };
    throw e;
  }
}

/** Finds a tensor by name. */
export function findTensor(file: GgufFile, name: string): GgufTensorInfo | undefined {
  return file.tensors.find((t) => t.name === name);
}

/**
 * The data bytes of a tensor (a view, not a copy) from a buffer holding the whole file.
 * Throws UNSUPPORTED for types without a known size and TRUNCATED if the buffer is too short.
 */
export function tensorData(bytes: Uint8Array, file: GgufFile, tensor: GgufTensorInfo): Uint8Array {
  if (tensor.nBytes === undefined) {
    throw new GgufError("UNSUPPORTED", `tensor "${tensor.name}" has ggml type ${tensor.type}, whose size is unknown`);
  }
  const start = file.dataOffset + tensor.offset;
  const end = start + tensor.nBytes;
  if (end > bytes.length) {
    throw new GgufError(
      "TRUNCATED",
      `tensor "${tensor.name}" data [${start}, ${end}) passes the end of the ${bytes.length}-byte input`,
      end,
    );
  }
  return bytes.subarray(start, end);
}
