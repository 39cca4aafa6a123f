/** Stable reasons a model cannot be resolved or loaded. */
export type ModelErrorCode =
  /** The given path does not exist. */
  | "MODEL_NOT_FOUND"
  /** The path exists but is not a regular file. */
  | "NOT_A_FILE"
  /** The file is not a usable GGUF model (the cause is a GgufError). */
  | "BAD_MODEL"
  /** Reading or writing the file failed (the cause is the system error). */
  | "IO";

/**
 * The one error type of the agent's model store; `code` is stable, `message` names the file.
 * @example if (e instanceof ModelError && e.code === "MODEL_NOT_FOUND") exitWithUsage(e.message)
 */
export class ModelError extends Error {
  override readonly name = "ModelError";
  readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
