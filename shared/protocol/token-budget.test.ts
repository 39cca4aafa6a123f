import { expect, test } from "bun:test";
import { tokenBudget } from "./token-budget.ts";

test("the budget is max_tokens, capped by the room left in the context", () => {
  expect(tokenBudget(10, 5, 64)).toEqual({ ok: true, budget: 5 });
  expect(tokenBudget(60, 50, 64)).toEqual({ ok: true, budget: 4 });
  expect(tokenBudget(63, 50, 64)).toEqual({ ok: true, budget: 1 });
});

test("an empty prompt and one that fills the context are refused with their codes", () => {
  expect(tokenBudget(0, 5, 64)).toMatchObject({ ok: false, code: "empty_prompt" });
  const full = tokenBudget(64, 5, 64);
  expect(full).toMatchObject({ ok: false, code: "context_length_exceeded" });
  expect(full.ok ? "" : full.message).toContain("64 tokens");
});
