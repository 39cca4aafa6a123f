/**
 * The owner's consent file (docs/consent.md): `<config dir>/consent.json` unless `--consent FILE`
 * names another. No file: the documented default contract. A bad file: one line naming the field.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, unwatchFile, watchFile, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { type ConsentContract, ConsentError, DEFAULT_CONTRACT, parseContract } from "../../../shared/consent/contract.ts";
import { CLIError } from "../cli/cli-error.ts";

export function consentPath(configDir: string, override: string | undefined): string {
  return override ?? join(configDir, "consent.json");
}

/** The contract in force: the file's (missing fields defaulted), or the default when there is no file. */
export function loadConsent(path: string): { contract: ConsentContract; fromFile: boolean } {
  if (!existsSync(path)) return { contract: DEFAULT_CONTRACT, fromFile: false };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new CLIError(`consent file ${path}: not valid JSON (${(err as Error).message})`, "bad_consent");
  }
  try {
    return { contract: parseContract(json), fromFile: true };
  } catch (err) {
    if (err instanceof ConsentError) throw new CLIError(`consent file ${path}: ${err.message}`, "bad_consent");
    throw err;
  }
}

/** Write a contract (every field, so the owner sees all of them), atomically. */
export function saveConsent(path: string, contract: ConsentContract): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, `${JSON.stringify(contract, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** Call `onChange` when the file changes (polled four times a second, so edits by any tool are seen); returns the stop function. */
export function watchConsent(path: string, onChange: () => void): () => void {
  const listener = () => onChange();
  watchFile(path, { interval: 250 }, listener);
  return () => unwatchFile(path, listener);
}
