import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { API_ERRORS, ProtocolErrorCodeSchema, RequestErrorCodeSchema, renderApiErrorTable, StageFailureCodeSchema } from "./errors.ts";

test("the docs' API error table is the one rendered from API_ERRORS", () => {
  const doc = readFileSync(join(import.meta.dir, "..", "..", "docs", "getting-started.md"), "utf8");
  expect(doc).toContain(renderApiErrorTable());
});

test("every request error code is an API error code", () => {
  for (const code of RequestErrorCodeSchema.options) expect(API_ERRORS[code]).toBeDefined();
});

test("the vocabularies are closed: unknown codes do not parse", () => {
  expect(StageFailureCodeSchema.safeParse("busy").success).toBe(true);
  expect(StageFailureCodeSchema.safeParse("whatever").success).toBe(false);
  expect(ProtocolErrorCodeSchema.safeParse("bad_signature").success).toBe(true);
  expect(ProtocolErrorCodeSchema.safeParse("").success).toBe(false);
});
