/** Public surface of the tokenizer layer (runs in Bun and workerd: no Node APIs). */
export { BpeTokenizer, type BpeTokenizerConfig } from "./bpe-tokenizer.ts";
export { BYTE_TO_CHAR, bytesToTokenText, tokenTextToBytes } from "./byte-encoding.ts";
export {
  type ChatMessage,
  chatTemplateOf,
  DEFAULT_BITNET_CHAT_TEMPLATE,
  PLAIN_CHAT_TEMPLATE,
  type RenderChatOptions,
  renderChat,
} from "./chat-template.ts";
export { TokenizerError, type TokenizerErrorCode } from "./errors.ts";
export { tokenizerFromGguf } from "./from-gguf.ts";
export { type PreTokenizerKind, preTokenize, preTokenizerFor } from "./pre-tokenizer.ts";
export { SpmTokenizer, type SpmTokenizerConfig } from "./spm-tokenizer.ts";
export { TokenTextStream } from "./token-text-stream.ts";
export { type DecodeOptions, type EncodeOptions, Tokenizer, TokenType, type VocabularyConfig } from "./tokenizer.ts";
