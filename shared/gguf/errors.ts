/** Stable machine-readable reasons a GGUF file or writer input was rejected. */
export type GgufErrorCode =
  /** The bytes end before the structure does; `needed` says how many bytes to supply. */
  | "TRUNCATED"
  | "BAD_MAGIC"
  | "BAD_VERSION"
  /** A key, value type, string or array is malformed, duplicated or absurdly large. */
  | "BAD_METADATA"
  /** A tensor name, shape, type or offset is malformed, misaligned or out of bounds. */
  | "BAD_TENSOR"
  /** Well-formed, but uses a ggml type or feature this code does not implement. */
  | "UNSUPPORTED";

/**
 * The one error type of the GGUF layer. `code` is stable; `message` names the key, tensor or
 * offset involved.
 * @example try { readGguf(bytes) } catch (e) { if (e instanceof GgufError && e.code === "TRUNCATED") fetchMore(e.needed) }
 */
export class GgufError extends Error {
  override readonly name = "GgufError";
  readonly code: GgufErrorCode;
  /** For TRUNCATED: a total byte count (from the start of the file) that is at least required. */
  readonly needed: number | undefined;

  constructor(code: GgufErrorCode, message: string, needed?: number) {
    super(message);
    this.code = code;
    this.needed = needed;
  }
}
