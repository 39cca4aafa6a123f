/** Chat messages → prompt token ids, exactly as the agent feeds them to the model. */
import type { ChatMessage } from "../../../shared/protocol/messages.ts";
import { type BpeTokenizer, renderChat } from "../../../shared/tokenizer/index.ts";

/**
 * Render with the model's chat template (generation prompt appended), tokenize with special
 * tokens parsed, and add BOS once when the vocabulary asks for it and the template did not.
 * `developer` messages are rendered as `system` (templates know only the classic roles).
 */
export function chatPromptTokens(tokenizer: BpeTokenizer, template: string, messages: readonly ChatMessage[]): number[] {
  const text = renderChat(
    template,
    messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: m.content })),
    {
      bosToken: tokenizer.bosId === undefined ? "" : tokenizer.tokenText(tokenizer.bosId),
      eosToken: tokenizer.eosId === undefined ? "" : tokenizer.tokenText(tokenizer.eosId),
      addGenerationPrompt: true,
    },
  );
  const ids = tokenizer.encode(text, { parseSpecial: true, addBos: false });
  if (tokenizer.addBos && tokenizer.bosId !== undefined && ids[0] !== tokenizer.bosId) ids.unshift(tokenizer.bosId);
  return ids;
}
