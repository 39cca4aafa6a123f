import { describe, expect, test } from "bun:test";
import { JsonPrefix } from "./json-prefix.ts";
import { ANY_OBJECT, matches, parseSchema, SchemaError } from "./schema-subset.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
/** Whether `text` is accepted as a prefix, and whether it is complete. */
function check(schema: ReturnType<typeof parseSchema>, text: string): "invalid" | "prefix" | "complete" {
  const p = new JsonPrefix(schema);
  if (!p.feed(bytes(text))) return "invalid";
  return p.complete ? "complete" : "prefix";
}

const person = parseSchema({
  type: "object",
  properties: {
    name: { type: "string" },
    age: { type: "integer" },
    tags: { type: "array", items: { enum: ["a", "b c", 3, null] } },
    ok: { type: "boolean" },
    score: { type: ["number", "null"] },
  },
  required: ["name", "age"],
  additionalProperties: false,
});

describe("JsonPrefix", () => {
  test("every prefix of a matching text is accepted, and only the whole text is complete", () => {
    const text = ' { "name" : "Ada \\"L\\" \\u00e9 ✓", "age": -12, "tags": ["b c", 3, null], "ok": true, "score": 1.5e-3 }';
    expect(matches(person, JSON.parse(text))).toBe(true);
    for (let i = 0; i < text.length; i++) expect(check(person, text.slice(0, i))).toBe("prefix");
    expect(check(person, text)).toBe("complete");
    expect(check(person, `${text}  `)).toBe("complete");
  });

  test("refuses what the schema or JSON forbids, at the first byte that breaks it", () => {
    for (const bad of [
      '{"nam"', // no such property (known once the key closes)
      '{"name": 1',
      '{"name": "x", "age": 1.5',
      '{"name": "x", "age": 1, "age"',
      '{"name": "x"}', // required age missing
      '{"name": "x", "age": 01',
      '{"name": "x", "age": 1,}',
      '{"name": "x", "age": 1, "tags": ["a", "b"',
      '{"name": "x", "age": 1} x',
      '{"name": "\\q',
      "[1]",
    ]) {
      expect({ bad, result: check(person, bad) }).toEqual({ bad, result: "invalid" });
    }
  });

  test("json_object accepts any object and nothing else", () => {
    expect(check(ANY_OBJECT, '{"a": [1, {"b": null}], "c": "d"}')).toBe("complete");
    expect(check(ANY_OBJECT, "[]")).toBe("invalid");
    expect(check(ANY_OBJECT, '"x"')).toBe("invalid");
  });

  test("a copy tries bytes without changing the original", () => {
    const p = new JsonPrefix(person);
    p.feed(bytes('{"name": "x", "age": 4'));
    const c = p.clone();
    expect(c.feed(bytes("x"))).toBe(false);
    expect(p.feed(bytes("}"))).toBe(true);
    expect(p.complete).toBe(true);
  });

  test("unsupported keywords are refused with their path", () => {
    expect(() => parseSchema({ type: "object", properties: { a: { type: "string", pattern: "x" } } })).toThrow(SchemaError);
    try {
      parseSchema({ type: "object", properties: { a: { type: "string", pattern: "x" } } });
    } catch (err) {
      expect((err as SchemaError).path).toBe("schema.properties.a.pattern");
    }
    expect(() => parseSchema({ type: "object", additionalProperties: true })).toThrow("additionalProperties");
  });
});
