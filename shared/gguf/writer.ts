/**
 * GGUF v3 writer. Tensors are laid out in the given order with sequential offsets: each offset is
 * the sum of the aligned sizes of the tensors before it (llama.cpp refuses anything else), and all
 * padding is zero bytes.
 */
import {
  alignUp,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_MAX_DIMS,
  GGUF_MAX_TENSOR_NAME_BYTES,
  GgufValueType,
  ggmlTensorBytes,
  ggufValueTypeName,
  resolveGgmlType,
} from "./constants.ts";
import { GgufError } from "./errors.ts";
import type { GgufArray, GgufValue } from "./metadata.ts";

/** A tensor to write: ggml shape (ne0 first), ggml type id and its already-encoded bytes. */
export interface GgufTensorInput {
  readonly name: string;
  readonly type: number;
  readonly dims: readonly number[];
  readonly data: Uint8Array;
}

/** Everything a GGUF file holds. Metadata is written in iteration order. */
export interface GgufWriteInput {
  readonly metadata: Iterable<readonly [string, GgufValue]>;
  readonly tensors: readonly GgufTensorInput[];
}

const T = GgufValueType;
const utf8 = new TextEncoder();

/** Append-only little-endian byte buffer that grows by doubling. */
class ByteSink {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      let cap = this.buf.length;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }

  // reserve() may swap buf/view, so it must run before they are read.
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  zeros(n: number): void {
    const at = this.reserve(n);
    this.buf.fill(0, at, this.length);
  }
  u8(v: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, v);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, v, true);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, v, true);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, v, true);
  }
  string(s: string): void {
    const b = utf8.encode(s);
    this.u64(BigInt(b.length));
    this.bytes(b);
  }
  finish(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

const INT_RANGES: Readonly<Record<number, readonly [number, number]>> = {
  [T.UINT8]: [0, 0xff],
  [T.INT8]: [-0x80, 0x7f],
  [T.UINT16]: [0, 0xffff],
  [T.INT16]: [-0x8000, 0x7fff],
  [T.UINT32]: [0, 0xffffffff],
  [T.INT32]: [-0x80000000, 0x7fffffff],
};
const BIG_RANGES: Readonly<Record<number, readonly [bigint, bigint]>> = {
  [T.UINT64]: [0n, 2n ** 64n - 1n],
  [T.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
};

function bad(what: string, problem: string): GgufError {
  return new GgufError("BAD_METADATA", `${what}: ${problem}`);
}

/** Writes one element of `type` (never ARRAY), validating its JS type and range. */
function writeItem(out: ByteSink, type: number, value: unknown, what: string): void {
  const range = INT_RANGES[type];
  if (range) {
    if (typeof value !== "number" || !Number.isInteger(value) || value < range[0] || value > range[1]) {
      throw bad(what, `${String(value)} is not a valid ${ggufValueTypeName(type)}`);
    }
  }
  const bigRange = BIG_RANGES[type];
  if (bigRange) {
    if (typeof value !== "bigint" || value < bigRange[0] || value > bigRange[1]) {
      throw bad(what, `${String(value)} is not a valid ${ggufValueTypeName(type)} (use a bigint)`);
    }
  }
  switch (type) {
    case T.UINT8:
      out.u8(value as number);
      break;
    case T.INT8:
      out.i8(value as number);
      break;
    case T.UINT16:
      out.u16(value as number);
      break;
    case T.INT16:
      out.i16(value as number);
      break;
    case T.UINT32:
      out.u32(value as number);
      break;
    case T.INT32:
      out.i32(value as number);
      break;
    case T.UINT64:
      out.u64(value as bigint);
      break;
    case T.INT64:
      out.i64(value as bigint);
      break;
    case T.FLOAT32:
    case T.FLOAT64:
      if (typeof value !== "number") throw bad(what, `${String(value)} is not a number`);
      if (type === T.FLOAT32) out.f32(value);
      else out.f64(value);
      break;
    case T.BOOL:
      if (typeof value !== "boolean") throw bad(what, `${String(value)} is not a boolean`);
      out.u8(value ? 1 : 0);
      break;
    case T.STRING:
      if (typeof value !== "string") throw bad(what, `${String(value)} is not a string`);
      out.string(value);
      break;
    default:
      throw bad(what, `unknown value type ${type}`);
  }
}

function writeArray(out: ByteSink, arr: GgufArray, what: string): void {
  out.u32(arr.itemType);
  out.u64(BigInt(arr.items.length));
  if (arr.itemType === T.ARRAY) {
    arr.items.forEach((item: unknown, i: number) => {
      if (typeof item !== "object" || item === null || !("items" in item)) throw bad(what, `element ${i} is not an array`);
      writeArray(out, item as GgufArray, `${what}[${i}]`);
    });
    return;
  }
  const items = arr.items as ArrayLike<unknown>;
  for (let i = 0; i < items.length; i++) writeItem(out, arr.itemType, items[i], `${what}[${i}]`);
}

function writeValue(out: ByteSink, key: string, v: GgufValue): void {
  out.string(key);
  out.u32(v.type);
  if (v.type === T.ARRAY) writeArray(out, v.value, `metadata "${key}"`);
  else writeItem(out, v.type, v.value, `metadata "${key}"`);
}

/** A tensor's header entry: name, ggml shape (ne0 first) and type; its bytes are written separately. */
export interface GgufTensorSpec {
  readonly name: string;
  readonly type: number;
  readonly dims: readonly number[];
}

interface PlannedTensor {
  readonly spec: GgufTensorSpec;
  readonly typeName: string;
  readonly offset: number;
  readonly nBytes: number;
}

function planTensors(tensors: readonly GgufTensorSpec[], architecture: string | undefined, alignment: number): PlannedTensor[] {
  const names = new Set<string>();
  let offset = 0;
  return tensors.map((t) => {
    const nameBytes = utf8.encode(t.name).length;
    if (nameBytes === 0 || nameBytes > GGUF_MAX_TENSOR_NAME_BYTES) {
      throw new GgufError("BAD_TENSOR", `tensor name "${t.name}" must be 1 to ${GGUF_MAX_TENSOR_NAME_BYTES} bytes`);
    }
    if (names.has(t.name)) throw new GgufError("BAD_TENSOR", `tensor "${t.name}" is listed twice`);
    names.add(t.name);
    if (t.dims.length < 1 || t.dims.length > GGUF_MAX_DIMS || t.dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
      throw new GgufError("BAD_TENSOR", `tensor "${t.name}" has invalid dims [${t.dims.join(", ")}]`);
    }
    const info = resolveGgmlType(t.type, architecture);
    if (!info) throw new GgufError("UNSUPPORTED", `tensor "${t.name}" has unknown ggml type ${t.type}`);
    const nElements = t.dims.reduce((a, b) => a * b, 1);
    if ((t.dims[0] as number) % info.blockSize !== 0) {
      throw new GgufError(
        "BAD_TENSOR",
        `tensor "${t.name}": ne0 = ${t.dims[0]} is not a multiple of the ${info.name} block size ${info.blockSize}`,
      );
    }
    const nBytes = ggmlTensorBytes(info, nElements);
    if (nBytes === undefined) throw new GgufError("UNSUPPORTED", `tensor "${t.name}": ${info.name} has no portable size`);
    const planned = { spec: t, typeName: info.name, offset, nBytes };
    offset += alignUp(nBytes, alignment);
    return planned;
  });
}

/** Where each tensor's bytes go, for writers that stream tensor data after the header. */
export interface GgufLayout {
  /** Everything before the data section: header, metadata, tensor infos, zero padding. */
  readonly header: Uint8Array;
  readonly alignment: number;
  /** Per tensor, in the given order: byte offset from the start of the data section and byte size. */
  readonly tensors: readonly { readonly name: string; readonly typeName: string; readonly offset: number; readonly nBytes: number }[];
  /** Size of the data section, padding after the last tensor included. */
  readonly dataBytes: number;
}

function layout(metadataInput: Iterable<readonly [string, GgufValue]>, tensors: readonly GgufTensorSpec[]): GgufLayout {
  const metadata = [...metadataInput];
  const keys = new Set<string>();
  let alignment = GGUF_DEFAULT_ALIGNMENT;
  let architecture: string | undefined;
  for (const [key, v] of metadata) {
    if (key.length === 0) throw new GgufError("BAD_METADATA", "metadata key is empty");
    if (keys.has(key)) throw new GgufError("BAD_METADATA", `metadata key "${key}" is listed twice`);
    keys.add(key);
    if (key === "general.alignment") {
      if (v.type !== T.UINT32 || v.value === 0 || (v.value & (v.value - 1)) !== 0) {
        throw new GgufError("BAD_METADATA", "general.alignment must be a UINT32 power of two");
      }
      alignment = v.value;
    }
    if (key === "general.architecture" && v.type === T.STRING) architecture = v.value;
  }
  const planned = planTensors(tensors, architecture, alignment);

  const out = new ByteSink();
  out.u32(GGUF_MAGIC);
  out.u32(3);
  out.u64(BigInt(planned.length));
  out.u64(BigInt(metadata.length));
  for (const [key, v] of metadata) writeValue(out, key, v);
  for (const { spec: t, offset } of planned) {
    out.string(t.name);
    out.u32(t.dims.length);
    for (const d of t.dims) out.u64(BigInt(d));
    out.u32(t.type);
    out.u64(BigInt(offset));
  }
  out.zeros(alignUp(out.length, alignment) - out.length);
  const last = planned[planned.length - 1];
  return {
    header: out.finish(),
    alignment,
    tensors: planned.map((p) => ({ name: p.spec.name, typeName: p.typeName, offset: p.offset, nBytes: p.nBytes })),
    dataBytes: last ? last.offset + alignUp(last.nBytes, alignment) : 0,
  };
}

/**
 * The header of a GGUF v3 file whose tensor data the caller streams afterwards (each tensor at
 * `header.length + offset`, zero padding up to the next tensor) — for files too large to build in
 * memory. Same validation and layout as {@link writeGguf}.
 * @example const { header, tensors } = writeGgufHeader(metadata, [{ name: "w", type: GgmlType.F32, dims: [4] }])
 */
export function writeGgufHeader(metadata: Iterable<readonly [string, GgufValue]>, tensors: readonly GgufTensorSpec[]): GgufLayout {
  return layout(metadata, tensors);
}

/**
 * Serializes a complete GGUF v3 file.
 * @example writeGguf({ metadata: [["general.architecture", gv.str("llama")]], tensors: [{ name: "w", type: GgmlType.F32, dims: [4], data }] })
 */
export function writeGguf(input: GgufWriteInput): Uint8Array {
  const { header, tensors, dataBytes } = layout(input.metadata, input.tensors);
  input.tensors.forEach((t, i) => {
    const { nBytes, typeName } = tensors[i]!;
    if (t.data.length !== nBytes) {
      throw new GgufError(
        "BAD_TENSOR",
        `tensor "${t.name}" (${typeName} [${t.dims.join(", ")}]) needs ${nBytes} bytes, got ${t.data.length}`,
      );
    }
  });
  const out = new Uint8Array(header.length + dataBytes);
  out.set(header);
  input.tensors.forEach((t, i) => {
    out.set(t.data, header.length + tensors[i]!.offset);
  });
  return out;
}
