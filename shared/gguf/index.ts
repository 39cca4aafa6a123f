/** Public surface of the GGUF layer (runs in Bun and workerd: no Node APIs). */
export * from "./constants.ts";
export { GgufError, type GgufErrorCode } from "./errors.ts";
export { bf16ToF32, f16ToF32, f32ToBf16, f32ToF16, roundToF16 } from "./f16.ts";
export * from "./metadata.ts";
export {
  findTensor,
  type GgufFile,
  type GgufProbe,
  type GgufTensorInfo,
  probeGguf,
  type ReadGgufOptions,
  readGguf,
  tensorData,
} from "./reader.ts";
export { dequantizeTq2_0, packTernaryTq2_0, quantizeTq2_0, type Tq2_0Unpacked, tq2_0Bytes, unpackTq2_0 } from "./tq2-0.ts";
export { type GgufLayout, type GgufTensorInput, type GgufTensorSpec, type GgufWriteInput, writeGguf, writeGgufHeader } from "./writer.ts";
