/**
 * The token-budget rule, written once for the coordinator and `aria-agent generate`: a request
 * may generate `min(max_tokens, context − prompt)` tokens; an empty prompt, or one that leaves
 * no room in the context, is refused.
 */

export type BudgetAnswer = { ok: true; budget: number } | { ok: false; code: "empty_prompt" | "context_length_exceeded"; message: string };

export function tokenBudget(promptLength: number, maxTokens: number, contextLimit: number): BudgetAnswer {
  if (promptLength === 0) return { ok: false, code: "empty_prompt", message: "The prompt has no tokens." };
  if (promptLength >= contextLimit) {
    return {
      ok: false,
      code: "context_length_exceeded",
      message: `The prompt is ${promptLength} tokens; this model's context is ${contextLimit} tokens.`,
    };
  }
  return { ok: true, budget: Math.min(maxTokens, contextLimit - promptLength) };
}
