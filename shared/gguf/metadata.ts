/**
 * Typed GGUF metadata values: the in-memory form the reader produces and the writer consumes,
 * small constructors (`gv.u32(3)`), and checked getters for consumers.
 */
import { GgufValueType, ggufValueTypeName } from "./constants.ts";
import { GgufError } from "./errors.ts";

type VT = typeof GgufValueType;
/** Value types whose values are JS numbers. */
export type GgufNumberType =
  | VT["UINT8"]
  | VT["INT8"]
  | VT["UINT16"]
  | VT["INT16"]
  | VT["UINT32"]
  | VT["INT32"]
  | VT["FLOAT32"]
  | VT["FLOAT64"];
/** Value types whose values are bigints (64-bit integers). */
export type GgufBigIntType = VT["UINT64"] | VT["INT64"];

/**
 * Array elements. Numeric arrays are typed arrays matching `itemType` (the reader always produces
 * them; the writer also accepts plain number arrays), bool arrays are `boolean[]`, string arrays
 * `string[]`, and arrays of arrays `GgufArray[]`.
 */
export type GgufArrayItems =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array
  | readonly number[]
  | readonly bigint[]
  | readonly boolean[]
  | readonly string[]
  | readonly GgufArray[];

/** A GGUF array: its element type and elements. */
export interface GgufArray {
  readonly itemType: number;
  readonly items: GgufArrayItems;
}

/** One metadata value with its GGUF type. */
export type GgufValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: VT["BOOL"]; readonly value: boolean }
  | { readonly type: VT["STRING"]; readonly value: string }
  | { readonly type: VT["ARRAY"]; readonly value: GgufArray };

/** Metadata in file order (Map keeps insertion order). */
export type GgufMetadata = ReadonlyMap<string, GgufValue>;

const T = GgufValueType;

/**
 * Constructors for metadata values.
 * @example new Map([["general.name", gv.str("tiny")], ["tiny.block_count", gv.u32(6)]])
 */
export const gv = {
  u8: (value: number): GgufValue => ({ type: T.UINT8, value }),
  i8: (value: number): GgufValue => ({ type: T.INT8, value }),
  u16: (value: number): GgufValue => ({ type: T.UINT16, value }),
  i16: (value: number): GgufValue => ({ type: T.INT16, value }),
  u32: (value: number): GgufValue => ({ type: T.UINT32, value }),
  i32: (value: number): GgufValue => ({ type: T.INT32, value }),
  f32: (value: number): GgufValue => ({ type: T.FLOAT32, value }),
  f64: (value: number): GgufValue => ({ type: T.FLOAT64, value }),
  u64: (value: bigint | number): GgufValue => ({ type: T.UINT64, value: BigInt(value) }),
  i64: (value: bigint | number): GgufValue => ({ type: T.INT64, value: BigInt(value) }),
  bool: (value: boolean): GgufValue => ({ type: T.BOOL, value }),
  str: (value: string): GgufValue => ({ type: T.STRING, value }),
  array: (itemType: number, items: GgufArrayItems): GgufValue => ({ type: T.ARRAY, value: { itemType, items } }),
  strings: (items: readonly string[]): GgufValue => gv.array(T.STRING, items),
  i32s: (items: ArrayLike<number>): GgufValue => gv.array(T.INT32, Int32Array.from(items)),
  u32s: (items: ArrayLike<number>): GgufValue => gv.array(T.UINT32, Uint32Array.from(items)),
  f32s: (items: ArrayLike<number>): GgufValue => gv.array(T.FLOAT32, Float32Array.from(items)),
} as const;

function wrongType(key: string, want: string, got: GgufValue): GgufError {
  const gotName = got.type === T.ARRAY ? `ARRAY of ${ggufValueTypeName(got.value.itemType)}` : ggufValueTypeName(got.type);
  return new GgufError("BAD_METADATA", `metadata key "${key}" should be ${want}, but is ${gotName}`);
}

const INTEGER_TYPES: ReadonlySet<number> = new Set([T.UINT8, T.INT8, T.UINT16, T.INT16, T.UINT32, T.INT32, T.UINT64, T.INT64]);

/** A string value, `undefined` if the key is absent; throws BAD_METADATA if it is another type. */
export function metaString(md: GgufMetadata, key: string): string | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (v.type !== T.STRING) throw wrongType(key, "a STRING", v);
  return v.value;
}

/**
 * An integer of any integer type (counts may be u32 or u64), `undefined` if absent; throws
 * BAD_METADATA for other types or 64-bit values beyond Number.MAX_SAFE_INTEGER.
 */
export function metaInteger(md: GgufMetadata, key: string): number | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (!INTEGER_TYPES.has(v.type)) throw wrongType(key, "an integer", v);
  const n = Number(v.value);
  if (!Number.isSafeInteger(n)) throw new GgufError("BAD_METADATA", `metadata key "${key}" is out of range: ${v.value}`);
  return n;
}

/** A FLOAT32 or FLOAT64 value, `undefined` if absent; throws BAD_METADATA for other types. */
export function metaFloat(md: GgufMetadata, key: string): number | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (v.type !== T.FLOAT32 && v.type !== T.FLOAT64) throw wrongType(key, "a FLOAT32", v);
  return v.value;
}

/** A BOOL value, `undefined` if absent; throws BAD_METADATA for other types. */
export function metaBool(md: GgufMetadata, key: string): boolean | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (v.type !== T.BOOL) throw wrongType(key, "a BOOL", v);
  return v.value;
}

/** An array of strings, `undefined` if absent; throws BAD_METADATA for other types. */
export function metaStringArray(md: GgufMetadata, key: string): readonly string[] | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  if (v.type !== T.ARRAY || v.value.itemType !== T.STRING) throw wrongType(key, "an ARRAY of STRING", v);
  return v.value.items as readonly string[];
}

/** An array of 8–32-bit integers or floats as numbers, `undefined` if absent; throws BAD_METADATA otherwise. */
export function metaNumberArray(md: GgufMetadata, key: string): ArrayLike<number> | undefined {
  const v = md.get(key);
  if (v === undefined) return undefined;
  const t = v.type === T.ARRAY ? v.value.itemType : -1;
  if (v.type !== T.ARRAY || t === T.UINT64 || t === T.INT64 || !(INTEGER_TYPES.has(t) || t === T.FLOAT32 || t === T.FLOAT64)) {
    throw wrongType(key, "an ARRAY of numbers", v);
  }
  return v.value.items as ArrayLike<number>;
}
