/**
 * The agent's identity: an ed25519 secret key made on first run and kept in the user's config
 * directory with mode 0600. Its public key (hex) is the node id.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { publicKeyHex, randomSecretKey } from "../../../shared/crypto/ed25519.ts";
import { fromHex, toHex } from "../../../shared/crypto/hex.ts";
import { CLIError } from "../cli/cli-error.ts";

export interface NodeIdentity {
  secretKey: Uint8Array;
  nodeId: string;
  path: string;
}

/** `$ARIA_CONFIG_DIR`, else `$XDG_CONFIG_HOME/aria`, else `~/.config/aria`. */
export function defaultConfigDir(env: Record<string, string | undefined>): string {
  if (env.ARIA_CONFIG_DIR) return env.ARIA_CONFIG_DIR;
  return join(env.XDG_CONFIG_HOME || join(homedir(), ".config"), "aria");
}

/** Load the node key from `configDir/node-key`, creating it (mode 0600) if absent. */
export async function loadOrCreateIdentity(configDir: string): Promise<NodeIdentity> {
  const path = join(configDir, "node-key");
  if (existsSync(path)) {
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) !== 0) chmodSync(path, 0o600); // never leave a secret readable by others
    const text = readFileSync(path, "utf8").trim();
    if (!/^[0-9a-f]{64}$/.test(text))
      throw new CLIError(`node key ${path} is corrupt (expected 64 hex digits); move it away to make a new one`, "bad_node_key");
    const secretKey = fromHex(text);
    return { secretKey, nodeId: await publicKeyHex(secretKey), path };
  }
  mkdirSync(configDir, { recursive: true, mode: 0o700 });
  const secretKey = randomSecretKey();
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${toHex(secretKey)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
  return { secretKey, nodeId: await publicKeyHex(secretKey), path };
}
