/**
 * GPT-2 `bytes_to_unicode`: byte-level BPE vocabularies store every byte as a printable character
 * so that token strings never contain raw spaces or control bytes (space is `Ġ`, newline `Ċ`).
 * Printable Latin-1 bytes map to themselves; the other 68 bytes map to U+0100.. in byte order.
 */

function buildByteToChar(): string[] {
  const direct: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) direct.push(b); // '!'..'~'
  for (let b = 0xa1; b <= 0xac; b++) direct.push(b); // '¡'..'¬'
  for (let b = 0xae; b <= 0xff; b++) direct.push(b); // '®'..'ÿ'
  const table: string[] = new Array(256);
  for (const b of direct) table[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (table[b] === undefined) table[b] = String.fromCharCode(256 + n++);
  return table;
}

/** BYTE_TO_CHAR[b] is the one-character string standing for byte b. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** The inverse of {@link BYTE_TO_CHAR}, keyed by char code. */
export const CHAR_TO_BYTE: ReadonlyMap<number, number> = new Map(BYTE_TO_CHAR.map((c, b) => [c.charCodeAt(0), b]));

/**
 * Bytes -> mapped token text (one UTF-16 unit per byte).
 * @example bytesToTokenText(new TextEncoder().encode(" hi")) === "Ġhi"
 */
export function bytesToTokenText(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += BYTE_TO_CHAR[b];
  return s;
}

/**
 * Mapped token text -> bytes; `undefined` if some character is not a byte stand-in.
 * @example new TextDecoder().decode(tokenTextToBytes("Ġhi")) === " hi"
 */
export function tokenTextToBytes(text: string): Uint8Array | undefined {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) {
    const b = CHAR_TO_BYTE.get(text.charCodeAt(i));
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}
