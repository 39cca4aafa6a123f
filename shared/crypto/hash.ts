import { toHex } from "./hex.ts";

/** SHA-256 (hex) of bytes, through WebCrypto (present in Bun, workerd and Node). */
export async function sha256Hex(data: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>);
  return toHex(new Uint8Array(digest));
}

/** SHA-256 of a token id sequence, each id as a little-endian u32: the ledger's content hash. */
export function sha256OfTokens(ids: readonly number[]): Promise<string> {
  const bytes = new Uint8Array(ids.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < ids.length; i++) view.setUint32(i * 4, ids[i]!, true);
  return sha256Hex(bytes);
}
