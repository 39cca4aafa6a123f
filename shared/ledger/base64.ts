/**
 * Standard base64 (RFC 4648 §4, with padding), as every c2sp.org format uses. Decoding is strict:
 * one byte string has exactly one accepted spelling, so signed text cannot be re-encoded into a
 * different-looking but equivalent form.
 */

const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CHUNK = 0x8000;

/** Base64 of bytes, padded. */
export function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

/**
 * Bytes of canonical padded base64, or undefined when `text` is not exactly that: wrong alphabet,
 * whitespace, missing or extra padding, or non-zero unused bits in the last character.
 */
export function decodeBase64(text: string): Uint8Array | undefined {
  if (!BASE64_SHAPE.test(text)) return undefined;
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  // Non-zero padding bits decode to the same bytes as the canonical spelling: reject them.
  if (encodeBase64(out) !== text) return undefined;
  return out;
}
