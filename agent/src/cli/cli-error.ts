/** The CLI's one error type: a one-line message for the user and a stable code. Only main.ts prints. */
export class CLIError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}
