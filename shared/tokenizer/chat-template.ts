/**
 * Chat templates: the Jinja template stored in `tokenizer.chat_template`, rendered with
 * @huggingface/jinja (the same semantics as transformers' apply_chat_template).
 */
import { Template } from "@huggingface/jinja";
import { type GgufMetadata, metaString, metaStringArray } from "../gguf/metadata.ts";
import { TokenizerError } from "./errors.ts";

/** One chat message. */
export interface ChatMessage {
  readonly role: string;
  readonly content: string;
}

/** Variables a chat template sees besides `messages`. */
export interface RenderChatOptions {
  readonly bosToken: string;
  readonly eosToken: string;
  /** Append the cue for the assistant's reply (`Assistant: ` for BitNet). */
  readonly addGenerationPrompt: boolean;
}

/**
 * BitNet b1.58 2B-4T's template (docs/bitnet-format.md §5), used when a file has none. Renders
 * `<|begin_of_text|>System: …<|eot_id|>User: …<|eot_id|>Assistant: `.
 */
export const DEFAULT_BITNET_CHAT_TEMPLATE =
  "{% set loop_messages = messages %}{% for message in loop_messages %}" +
  "{% set content = message['role'] | capitalize + ': '+ message['content'] | trim + '<|eot_id|>' %}" +
  "{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}" +
  "{{ content }}{% endfor %}{% if add_generation_prompt %}{{ 'Assistant: ' }}{% endif %}";

const compiled = new Map<string, Template>();
const COMPILED_LIMIT = 16;

function compile(template: string): Template {
  let t = compiled.get(template);
  if (t) return t;
  try {
    t = new Template(template);
  } catch (e) {
    throw new TokenizerError("BAD_TEMPLATE", `chat template does not parse: ${(e as Error).message}`, { cause: e });
  }
  if (compiled.size >= COMPILED_LIMIT) compiled.clear();
  compiled.set(template, t);
  return t;
}

/**
 * Renders a conversation with a Jinja chat template.
 * @example renderChat(DEFAULT_BITNET_CHAT_TEMPLATE, [{ role: "user", content: "Hi" }], { bosToken: "<|begin_of_text|>", eosToken: "<|end_of_text|>", addGenerationPrompt: true })
 * // "<|begin_of_text|>User: Hi<|eot_id|>Assistant: "
 */
export function renderChat(template: string, messages: readonly ChatMessage[], options: RenderChatOptions): string {
  const t = compile(template);
  try {
    return t.render({
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      bos_token: options.bosToken,
      eos_token: options.eosToken,
      add_generation_prompt: options.addGenerationPrompt,
    });
  } catch (e) {
    throw new TokenizerError("BAD_TEMPLATE", `chat template failed to render: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * For a file with no template whose vocabulary has no `<|eot_id|>` (LLaMA-2 SentencePiece base
 * models such as bitnet_b1_58-large): the same turns as plain text, one per line,
 * `System: …\nUser: …\nAssistant:`. BOS comes from the vocabulary's add_bos_token.
 */
export const PLAIN_CHAT_TEMPLATE =
  "{% for message in messages %}{{ message['role'] | capitalize + ': ' + message['content'] | trim + '\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}";

/**
 * The file's `tokenizer.chat_template`; without one, {@link DEFAULT_BITNET_CHAT_TEMPLATE} when the
 * vocabulary has its `<|eot_id|>`, else {@link PLAIN_CHAT_TEMPLATE}.
 */
export function chatTemplateOf(md: GgufMetadata): string {
  const stored = metaString(md, "tokenizer.chat_template");
  if (stored !== undefined) return stored;
  return metaStringArray(md, "tokenizer.ggml.tokens")?.includes("<|eot_id|>") === false
    ? PLAIN_CHAT_TEMPLATE
    : DEFAULT_BITNET_CHAT_TEMPLATE;
}
