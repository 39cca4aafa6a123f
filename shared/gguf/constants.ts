/**
 * GGUF container constants and ggml tensor type traits (docs/bitnet-format.md §2.1-2.2, §3).
 * Everything here is data; the reader and writer decide what to do with it.
 */

/** `GGUF` read as a little-endian u32 (bytes 47 47 55 46). */
export const GGUF_MAGIC = 0x46554747;

/** Alignment of the data section and of every tensor when `general.alignment` is absent. */
export const GGUF_DEFAULT_ALIGNMENT = 32;

/** ggml's GGML_MAX_NAME is 64 including the NUL terminator, so names are at most 63 bytes. */
export const GGUF_MAX_TENSOR_NAME_BYTES = 63;

/** ggml's GGML_MAX_DIMS. */
export const GGUF_MAX_DIMS = 4;

/** Metadata value type ids, as stored after each key. */
export const GgufValueType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;

/** One of the {@link GgufValueType} ids. */
export type GgufValueTypeId = (typeof GgufValueType)[keyof typeof GgufValueType];

/** Encoded size in bytes of each fixed-size value type (strings and arrays are variable). */
export const GGUF_VALUE_TYPE_SIZE: Readonly<Record<number, number>> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
};

/** Human-readable name of a value type id, for error messages. */
export function ggufValueTypeName(type: number): string {
  for (const [name, id] of Object.entries(GgufValueType)) if (id === type) return name;
  return `unknown(${type})`;
}

/**
 * ggml tensor type ids. 36–39 are ambiguous: upstream ggml retired 36–38 and uses 39 for MXFP4,
 * while the bitnet.cpp fork uses them for I2_S, I8_S, TL1, TL2 — see {@link resolveGgmlType}.
 */
export const GgmlType = {
  F32: 0,
  F16: 1,
  Q4_0: 2,
  Q4_1: 3,
  Q5_0: 6,
  Q5_1: 7,
  Q8_0: 8,
  Q8_1: 9,
  Q2_K: 10,
  Q3_K: 11,
  Q4_K: 12,
  Q5_K: 13,
  Q6_K: 14,
  Q8_K: 15,
  IQ2_XXS: 16,
  IQ2_XS: 17,
  IQ3_XXS: 18,
  IQ1_S: 19,
  IQ4_NL: 20,
  IQ3_S: 21,
  IQ2_S: 22,
  IQ4_XS: 23,
  I8: 24,
  I16: 25,
  I32: 26,
  I64: 27,
  F64: 28,
  IQ1_M: 29,
  BF16: 30,
  TQ1_0: 34,
  TQ2_0: 35,
  /** bitnet.cpp fork only. */
  I2_S: 36,
  /** bitnet.cpp fork only. */
  I8_S: 37,
  /** bitnet.cpp fork only; layout tied to a per-model kernel config. */
  TL1: 38,
  /** bitnet.cpp fork only (upstream 39 is MXFP4). */
  TL2: 39,
  /** Upstream ggml only (the fork's 39 is TL2). */
  MXFP4: 39,
} as const;

/** Size traits of one ggml type: `blockBytes` bytes encode `blockSize` consecutive elements. */
export interface GgmlTypeInfo {
  readonly id: number;
  readonly name: string;
  readonly blockSize: number;
  /** Bytes per block; `undefined` when the layout is not portable (TL1/TL2). */
  readonly blockBytes: number | undefined;
}

const info = (id: number, name: string, blockSize: number, blockBytes: number | undefined) =>
  ({ id, name, blockSize, blockBytes }) as const;

/** QK_K: the super-block size of the K, IQ and TQ formats. */
export const QK_K = 256;

/** Bytes of one TQ2_0 block: `uint8 qs[64]; fp16 d` (2.0625 bits per weight). */
export const TQ2_0_BLOCK_BYTES = 66;

/** Bytes of one TQ1_0 block: `uint8 qs[48]; uint8 qh[4]; fp16 d` (1.6875 bits per weight). */
export const TQ1_0_BLOCK_BYTES = 54;

/** I2_S stores its float32 scale in a 32-byte tail after the packed 2-bit codes. */
export const I2_S_TAIL_BYTES = 32;

const COMMON_TYPES: readonly GgmlTypeInfo[] = [
  info(0, "F32", 1, 4),
  info(1, "F16", 1, 2),
  info(2, "Q4_0", 32, 18),
  info(3, "Q4_1", 32, 20),
  info(6, "Q5_0", 32, 22),
  info(7, "Q5_1", 32, 24),
  info(8, "Q8_0", 32, 34),
  info(9, "Q8_1", 32, 36),
  info(10, "Q2_K", QK_K, 84),
  info(11, "Q3_K", QK_K, 110),
  info(12, "Q4_K", QK_K, 144),
  info(13, "Q5_K", QK_K, 176),
  info(14, "Q6_K", QK_K, 210),
  info(15, "Q8_K", QK_K, 292),
  info(16, "IQ2_XXS", QK_K, 66),
  info(17, "IQ2_XS", QK_K, 74),
  info(18, "IQ3_XXS", QK_K, 98),
  info(19, "IQ1_S", QK_K, 50),
  info(20, "IQ4_NL", 32, 18),
  info(21, "IQ3_S", QK_K, 110),
  info(22, "IQ2_S", QK_K, 82),
  info(23, "IQ4_XS", QK_K, 136),
  info(24, "I8", 1, 1),
  info(25, "I16", 1, 2),
  info(26, "I32", 1, 4),
  info(27, "I64", 1, 8),
  info(28, "F64", 1, 8),
  info(29, "IQ1_M", QK_K, 56),
  info(30, "BF16", 1, 2),
  info(34, "TQ1_0", QK_K, TQ1_0_BLOCK_BYTES),
  info(35, "TQ2_0", QK_K, TQ2_0_BLOCK_BYTES),
];

// I2_S reports blck_size 1 / type_size 1 in the fork, but its real byte size is n/4 + 32
// (see ggmlTensorBytes); the traits below are what ggml's tables say.
const FORK_TYPES: readonly GgmlTypeInfo[] = [
  info(36, "I2_S", 1, 1),
  info(37, "I8_S", 1, 1),
  info(38, "TL1", 1, undefined),
  info(39, "TL2", 1, undefined),
];

const UPSTREAM_ONLY_TYPES: readonly GgmlTypeInfo[] = [info(39, "MXFP4", 32, 17)];

const COMMON_BY_ID = new Map(COMMON_TYPES.map((t) => [t.id, t]));
const FORK_BY_ID = new Map(FORK_TYPES.map((t) => [t.id, t]));
const UPSTREAM_BY_ID = new Map(UPSTREAM_ONLY_TYPES.map((t) => [t.id, t]));

/** Architectures bitnet.cpp writes (its bitnet and llama files too), whose files use its meaning of type ids 36–39. */
export const BITNET_FORK_ARCHITECTURES: ReadonlySet<string> = new Set(["bitnet-b1.58", "bitnet-25", "bitnet", "llama"]);

/**
 * Traits of a ggml type id, or `undefined` if unknown. 36–38 exist only in the bitnet.cpp fork
 * (upstream retired them), so they always resolve to the fork types; 39 resolves to TL2 for the
 * fork's architectures and to MXFP4 otherwise.
 * @example resolveGgmlType(35)?.name === "TQ2_0"
 */
export function resolveGgmlType(id: number, architecture?: string): GgmlTypeInfo | undefined {
  const common = COMMON_BY_ID.get(id);
  if (common) return common;
  if (id === 39 && !(architecture !== undefined && BITNET_FORK_ARCHITECTURES.has(architecture))) {
    return UPSTREAM_BY_ID.get(id);
  }
  return FORK_BY_ID.get(id);
}

/**
 * Exact byte size of a tensor of `nElements` elements, or `undefined` when the type has no portable
 * size. Throws a RangeError when the element count is not a whole number of blocks.
 * I2_S is special-cased as ggml_nbytes does in the fork: 2 bits per element plus a 32-byte tail
 * holding the float32 scale.
 * @example ggmlTensorBytes(resolveGgmlType(35)!, 512) === 132
 */
export function ggmlTensorBytes(type: GgmlTypeInfo, nElements: number): number | undefined {
  if (type.name === "I2_S") {
    if (nElements % 4 !== 0) throw new RangeError(`I2_S needs a multiple of 4 elements, got ${nElements}`);
    return nElements / 4 + I2_S_TAIL_BYTES;
  }
  if (type.blockBytes === undefined) return undefined;
  if (nElements % type.blockSize !== 0) {
    throw new RangeError(`${type.name} needs a multiple of ${type.blockSize} elements, got ${nElements}`);
  }
  return (nElements / type.blockSize) * type.blockBytes;
}

/** Rounds `n` up to a multiple of `alignment`. */
export function alignUp(n: number, alignment: number): number {
  const rem = n % alignment;
  return rem === 0 ? n : n + alignment - rem;
}
