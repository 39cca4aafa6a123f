/** Chat messages → prompt token ids, exactly as the agent feeds them to the model. */
import type { ChatMessage } from "../../../shared/protocol/messages.ts";
import { renderChat, type Tokenizer, TokenizerError } from "../../../shared/tokenizer/index.ts";

/**
 * Render with the model's chat template (generation prompt appended), tokenize with the
 * template's control tokens parsed — but never those written inside a message: each message's
 * content is located in the rendered text and encoded as ordinary text (docs/api.md, "User text
 * never becomes control tokens") — and add BOS once when the vocabulary asks for it and the
 * template did not. `developer` messages are rendered as `system` (templates know only the
 * classic roles). Encoding gives the event loop a turn every few milliseconds.
 */
export async function chatPromptTokens(tokenizer: Tokenizer, template: string, messages: readonly ChatMessage[]): Promise<number[]> {
  const text = renderChat(
    template,
    messages.map((m) => ({ role: m.role === "developer" ? "system" : m.role, content: m.content })),
    {
      bosToken: tokenizer.bosId === undefined ? "" : tokenizer.tokenText(tokenizer.bosId),
      eosToken: tokenizer.eosId === undefined ? "" : tokenizer.tokenText(tokenizer.eosId),
      addGenerationPrompt: true,
    },
  );
  const ids = await tokenizer.encodeAsync(text, { parseSpecial: true, addBos: false, plainRanges: contentRanges(text, messages) });
  if (tokenizer.addBos && tokenizer.bosId !== undefined && ids[0] !== tokenizer.bosId) ids.unshift(tokenizer.bosId);
  return ids;
}

/**
 * Where each message's content sits in the rendered prompt, in order. Templates insert content
 * verbatim (some trim it); a content the template changed otherwise cannot be told apart from
 * template text, so the prompt is refused rather than risk parsing control tokens in it.
 */
export function contentRanges(text: string, messages: readonly ChatMessage[]): [number, number][] {
  const ranges: [number, number][] = [];
  let from = 0;
  for (const m of messages) {
    if (m.content.length === 0) continue;
    let content = m.content;
    let at = text.indexOf(content, from);
    if (at < 0) {
      content = m.content.trim();
      at = content.length === 0 ? from : text.indexOf(content, from);
    }
    if (at < 0)
      throw new TokenizerError(
        "BAD_TEMPLATE",
        "the chat template changed a message's text; it cannot be told apart from the template's control tokens",
      );
    ranges.push([at, at + content.length]);
    from = at + content.length;
  }
  return ranges;
}
