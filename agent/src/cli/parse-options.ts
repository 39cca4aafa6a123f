/** Option parsing shared by commands: node:util parseArgs with errors turned into CLIError. */
import { type ParseArgsConfig, parseArgs } from "node:util";
import { CLIError } from "./cli-error.ts";

export function parseOptions<T extends NonNullable<ParseArgsConfig["options"]>>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: false, strict: true }).values;
  } catch (err) {
    throw new CLIError(err instanceof Error ? err.message : String(err), "bad_option", 2);
  }
}

/** A positive integer option, or the default. */
export function positiveInt(value: string | boolean | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new CLIError(`--${name} must be a positive integer, got '${value}'`, "bad_option", 2);
  return n;
}
