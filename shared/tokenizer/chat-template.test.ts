import { describe, expect, test } from "bun:test";
import { gv } from "../gguf/metadata.ts";
import { chatTemplateOf, DEFAULT_BITNET_CHAT_TEMPLATE, PLAIN_CHAT_TEMPLATE, renderChat } from "./chat-template.ts";
import { TokenizerError } from "./errors.ts";

const opts = { bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", addGenerationPrompt: true };

describe("renderChat", () => {
  test("BitNet template: system + user + generation prompt", () => {
    const out = renderChat(
      DEFAULT_BITNET_CHAT_TEMPLATE,
      [
        { role: "system", content: "You are helpful." },
        { role: "user", content: "  Hey, are you conscious?\n" },
      ],
      opts,
    );
    expect(out).toBe("<|begin_of_text|>System: You are helpful.<|eot_id|>User: Hey, are you conscious?<|eot_id|>Assistant: ");
  });

  test("multi-turn, no generation prompt", () => {
    const out = renderChat(
      DEFAULT_BITNET_CHAT_TEMPLATE,
      [
        { role: "user", content: "Hi" },
        { role: "assistant", content: "Hello!" },
        { role: "user", content: "Bye" },
      ],
      { ...opts, addGenerationPrompt: false },
    );
    expect(out).toBe("<|begin_of_text|>User: Hi<|eot_id|>Assistant: Hello!<|eot_id|>User: Bye<|eot_id|>");
  });

  test("content is data, not template code", () => {
    const out = renderChat(DEFAULT_BITNET_CHAT_TEMPLATE, [{ role: "user", content: "{{ bos_token }} {% if %}" }], opts);
    expect(out).toBe("<|begin_of_text|>User: {{ bos_token }} {% if %}<|eot_id|>Assistant: ");
  });

  test("other templates see bos_token, eos_token and raise_exception", () => {
    expect(renderChat("{{ bos_token }}{{ messages[0].content }}{{ eos_token }}", [{ role: "user", content: "x" }], opts)).toBe(
      "<|begin_of_text|>x<|end_of_text|>",
    );
    expect(() => renderChat("{{ raise_exception('no system role') }}", [], opts)).toThrow(TokenizerError);
    expect(() => renderChat("{% for %}", [], opts)).toThrow(TokenizerError);
  });

  test("chatTemplateOf falls back to the BitNet template", () => {
    expect(chatTemplateOf(new Map())).toBe(DEFAULT_BITNET_CHAT_TEMPLATE);
    expect(chatTemplateOf(new Map([["tokenizer.chat_template", gv.str("{{x}}")]]))).toBe("{{x}}");
  });

  test("a vocabulary without <|eot_id|> and no template gets the plain-text turns", () => {
    const spm = new Map([["tokenizer.ggml.tokens", gv.strings(["<unk>", "<s>", "</s>", "▁a"])]]);
    expect(chatTemplateOf(spm)).toBe(PLAIN_CHAT_TEMPLATE);
    const messages = [
      { role: "system", content: "Be brief. " },
      { role: "user", content: "Hi" },
    ];
    const text = renderChat(PLAIN_CHAT_TEMPLATE, messages, { bosToken: "<s>", eosToken: "</s>", addGenerationPrompt: true });
    expect(text).toBe("System: Be brief.\nUser: Hi\nAssistant:");
  });
});
