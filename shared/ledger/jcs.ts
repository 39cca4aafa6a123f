/**
 * RFC 8785 JSON Canonicalization Scheme: one byte string per JSON value, so JSON can be hashed and
 * signed. Objects' keys sorted by UTF-16 code units, no whitespace, numbers as ECMAScript
 * Number::toString, strings escaped as JSON.stringify does (which is what RFC 8785 specifies).
 */
import { bytesEqual, decodeUtf8Strict, utf8 } from "./bytes.ts";
import { LedgerFormatError } from "./errors.ts";

const LONE_SURROGATE = /\p{Surrogate}/u;

function reject(message: string): LedgerFormatError {
  return new LedgerFormatError("not_canonical_json", message);
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function serializeString(text: string): string {
  // I-JSON (RFC 7493), which RFC 8785 builds on, forbids unpaired surrogates: they have no UTF-8 form.
  if (LONE_SURROGATE.test(text)) throw reject("string contains a lone surrogate");
  return JSON.stringify(text);
}

function serialize(value: unknown, ancestors: Set<object>): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) throw reject(`${value} has no JSON form`);
      // ECMAScript Number::toString, with -0 as "0": exactly RFC 8785 §3.2.2.3.
      return JSON.stringify(value);
    case "string":
      return serializeString(value);
    case "object":
      break;
    default:
      throw reject(`${typeof value} has no JSON form`);
  }
  if (ancestors.has(value)) throw reject("value contains a cycle");
  ancestors.add(value);
  try {
    if (Array.isArray(value)) {
      const items: string[] = [];
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        // JSON.stringify would write null here; a canonical form should not guess.
        if (item === undefined) throw reject(`array item ${i} is undefined`);
        items.push(serialize(item, ancestors));
      }
      return `[${items.join(",")}]`;
    }
    if (!isPlainObject(value)) throw reject(`${value.constructor?.name ?? "object"} is not a plain object`);
    const members: string[] = [];
    // Default sort order compares UTF-16 code units, as RFC 8785 §3.2.3 requires.
    for (const key of Object.keys(value).sort()) {
      const member = value[key];
      if (member === undefined) continue; // omitted, as JSON.stringify omits it
      members.push(`${serializeString(key)}:${serialize(member, ancestors)}`);
    }
    return `{${members.join(",")}}`;
  } finally {
    ancestors.delete(value);
  }
}

/**
 * The RFC 8785 canonical JSON text of a value built from null, booleans, finite numbers, strings,
 * arrays and plain objects. Object members whose value is undefined are omitted (as JSON.stringify
 * does). Throws LedgerFormatError("not_canonical_json") for anything else: NaN and infinities, bigint,
 * functions, symbols, undefined array items, class instances (Date, Map, ...), cycles, lone surrogates.
 * @example canonicalJson({ b: [1e21, 0.1], a: "é" }) → '{"a":"é","b":[1e+21,0.1]}'
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, new Set());
}

/** The UTF-8 bytes of {@link canonicalJson}: what gets hashed or signed. */
export function canonicalBytes(value: unknown): Uint8Array {
  return utf8(canonicalJson(value));
}

/**
 * True when `bytes` are valid UTF-8 JSON already in RFC 8785 canonical form: parsing and
 * re-canonicalizing gives the same bytes. Whitespace, escapes like "\u00e9", key order, duplicate keys,
 * a byte-order mark and non-shortest numbers all make it false. Never throws.
 */
export function isCanonicalJson(bytes: Uint8Array): boolean {
  try {
    const value: unknown = JSON.parse(decodeUtf8Strict(bytes));
    return bytesEqual(canonicalBytes(value), bytes);
  } catch {
    return false;
  }
}
