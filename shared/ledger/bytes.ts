/** Small byte helpers shared by the ledger formats (no Buffer: this runs in workerd and browsers too). */

const encoder = new TextEncoder();

/** UTF-8 bytes of a string. Lone surrogates become U+FFFD, so callers that sign text reject them first. */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8, throwing on invalid bytes; a leading byte-order mark is kept, not swallowed. */
export function decodeUtf8Strict(bytes: Uint8Array): string {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

/** The concatenation of byte arrays, in order. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** True when both arrays hold the same bytes. Not constant-time: only for public data (hashes, key IDs). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Eight big-endian bytes of a non-negative safe integer (a uint64 on the wire). */
export function uint64BE(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a non-negative safe integer: ${value}`);
  const out = new Uint8Array(8);
  const view = new DataView(out.buffer);
  view.setUint32(0, Math.floor(value / 2 ** 32));
  view.setUint32(4, value % 2 ** 32);
  return out;
}

/**
 * The big-endian uint64 at `offset` as a number, or null when it exceeds 2^53 - 1 (JavaScript numbers
 * cannot hold it exactly, so the caller must treat such a value as unsupported rather than round it).
 */
export function readUint64BE(bytes: Uint8Array, offset: number): number | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const high = view.getUint32(offset);
  const low = view.getUint32(offset + 4);
  if (high >= 2 ** 21) return null;
  return high * 2 ** 32 + low;
}

/** Matches a non-negative decimal integer without leading zeros ("0", "7", "120", never "007" or "+7"). */
export const CANONICAL_DECIMAL = /^(?:0|[1-9][0-9]*)$/;

/** Parses a canonical decimal (see {@link CANONICAL_DECIMAL}) that fits a safe integer, else null. */
export function parseCanonicalDecimal(text: string): number | null {
  if (!CANONICAL_DECIMAL.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}
