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

/** --head: "q8_0" (default) requantizes a float output head at load; "file" keeps the file's. */
export function headOption(value: string | boolean | undefined): "q8_0" | "file" {
  if (value === undefined || value === "q8_0") return "q8_0";
  if (value === "file") return "file";
  throw new CLIError(`--head must be q8_0 or file, got '${value}'`, "bad_option", 2);
}
