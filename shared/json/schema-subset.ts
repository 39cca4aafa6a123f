/**
 * The JSON Schema subset ARIA's constrained decoding enforces (docs/api.md, "Structured output"),
 * parsed into a small closed form. Supported: `type` (object, array, string, number, integer,
 * boolean, null, or a list of them), `properties` with `required`, `items`, `enum` and `const`
 * of scalars, nesting to any depth. Objects hold only their declared properties (OpenAI's strict
 * mode requires `additionalProperties: false`; true is refused). Anything else is refused with
 * the path of the keyword, so a schema is never half-enforced.
 */

export type Schema =
  | { kind: "any" }
  | { kind: "object"; properties: Map<string, Schema> | null; required: Set<string> }
  | { kind: "array"; items: Schema }
  | { kind: "string" }
  | { kind: "number"; integer: boolean }
  | { kind: "boolean" }
  | { kind: "null" }
  | { kind: "enum"; values: (string | number | boolean | null)[] }
  | { kind: "union"; options: Schema[] };

export class SchemaError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const IGNORED = new Set(["title", "description", "$schema", "examples", "default", "$comment"]);
const MAX_DEPTH = 32;

/** Any JSON object (response_format json_object). */
export const ANY_OBJECT: Schema = { kind: "object", properties: null, required: new Set() };

export function parseSchema(raw: unknown, path = "schema", depth = 0): Schema {
  if (depth > MAX_DEPTH) throw new SchemaError(path, "the schema nests too deeply");
  if (raw === true || (typeof raw === "object" && raw !== null && Object.keys(raw).length === 0)) return { kind: "any" };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new SchemaError(path, "a schema must be an object");
  const s = raw as Record<string, unknown>;
  for (const key of Object.keys(s)) {
    if (IGNORED.has(key)) continue;
    if (!["type", "properties", "required", "items", "enum", "const", "additionalProperties"].includes(key))
      throw new SchemaError(`${path}.${key}`, `the keyword '${key}' is not supported by constrained decoding`);
  }
  if ("const" in s) return enumOf([s.const], `${path}.const`);
  if ("enum" in s) {
    if (!Array.isArray(s.enum) || s.enum.length === 0) throw new SchemaError(`${path}.enum`, "enum must be a non-empty array");
    return enumOf(s.enum, `${path}.enum`);
  }
  const types = s.type === undefined ? null : Array.isArray(s.type) ? s.type : [s.type];
  if (types === null) {
    if ("properties" in s) return objectOf(s, path, depth);
    if ("items" in s) return arrayOf(s, path, depth);
    return { kind: "any" };
  }
  const options = types.map((t, i) => {
    const at = Array.isArray(s.type) ? `${path}.type.${i}` : `${path}.type`;
    switch (t) {
      case "object":
        return objectOf(s, path, depth);
      case "array":
        return arrayOf(s, path, depth);
      case "string":
        return { kind: "string" } as Schema;
      case "number":
        return { kind: "number", integer: false } as Schema;
      case "integer":
        return { kind: "number", integer: true } as Schema;
      case "boolean":
        return { kind: "boolean" } as Schema;
      case "null":
        return { kind: "null" } as Schema;
      default:
        throw new SchemaError(at, `unknown type ${JSON.stringify(t)}`);
    }
  });
  return options.length === 1 ? options[0]! : { kind: "union", options };
}

function enumOf(values: unknown[], path: string): Schema {
  for (const v of values) {
    if (v !== null && !["string", "number", "boolean"].includes(typeof v))
      throw new SchemaError(path, "enum and const values must be strings, numbers, booleans or null");
    if (typeof v === "number" && !Number.isFinite(v)) throw new SchemaError(path, "numbers must be finite");
  }
  return { kind: "enum", values: values as (string | number | boolean | null)[] };
}

function objectOf(s: Record<string, unknown>, path: string, depth: number): Schema {
  if (s.additionalProperties === true || (typeof s.additionalProperties === "object" && s.additionalProperties !== null))
    throw new SchemaError(`${path}.additionalProperties`, "only additionalProperties: false is supported");
  if (s.properties === undefined) {
    if (s.required !== undefined) throw new SchemaError(`${path}.required`, "required needs properties");
    return { kind: "object", properties: null, required: new Set() };
  }
  if (typeof s.properties !== "object" || s.properties === null || Array.isArray(s.properties))
    throw new SchemaError(`${path}.properties`, "properties must be an object");
  const properties = new Map<string, Schema>();
  for (const [name, sub] of Object.entries(s.properties)) properties.set(name, parseSchema(sub, `${path}.properties.${name}`, depth + 1));
  const required = s.required === undefined ? [] : s.required;
  if (!Array.isArray(required) || required.some((r) => typeof r !== "string" || !properties.has(r)))
    throw new SchemaError(`${path}.required`, "required must list declared properties");
  return { kind: "object", properties, required: new Set(required as string[]) };
}

function arrayOf(s: Record<string, unknown>, path: string, depth: number): Schema {
  return { kind: "array", items: s.items === undefined ? { kind: "any" } : parseSchema(s.items, `${path}.items`, depth + 1) };
}

/** Whether a parsed JSON value matches the schema (used by tests and to double-check outputs). */
export function matches(schema: Schema, v: unknown): boolean {
  switch (schema.kind) {
    case "any":
      return true;
    case "enum":
      return schema.values.some((x) => x === v);
    case "union":
      return schema.options.some((o) => matches(o, v));
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number" && (!schema.integer || Number.isInteger(v));
    case "boolean":
      return typeof v === "boolean";
    case "null":
      return v === null;
    case "array":
      return Array.isArray(v) && v.every((x) => matches(schema.items, x));
    case "object": {
      if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
      const o = v as Record<string, unknown>;
      for (const r of schema.required) if (!(r in o)) return false;
      if (!schema.properties) return true;
      return Object.entries(o).every(([k, x]) => schema.properties!.has(k) && matches(schema.properties!.get(k)!, x));
    }
  }
}
