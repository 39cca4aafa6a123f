/** Stable reasons the tokenizer layer rejects input. */
export type TokenizerErrorCode =
  /** Vocabulary metadata missing, inconsistent or of the wrong type. */
  | "BAD_VOCAB"
  /** A tokenizer model or pre-tokenizer this code does not implement. */
  | "UNSUPPORTED"
  /** A token id outside the vocabulary. */
  | "TOKEN_RANGE"
  /** Text holds bytes the vocabulary cannot represent. */
  | "UNENCODABLE"
  /** A chat template that fails to parse or render. */
  | "BAD_TEMPLATE";

/**
 * The one error type of the tokenizer layer; `code` is stable, `message` names the problem.
 * @example if (e instanceof TokenizerError && e.code === "TOKEN_RANGE") reject(e.message)
 */
export class TokenizerError extends Error {
  override readonly name = "TokenizerError";
  readonly code: TokenizerErrorCode;

  constructor(code: TokenizerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
