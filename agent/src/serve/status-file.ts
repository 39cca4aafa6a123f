/**
 * What a running agent is doing, written to `<config dir>/status.json` every two seconds and
 * shortly after each request it served, for `aria-agent status` (docs/dashboard.md). Written to a
 * temporary file and renamed, so a reader never sees half a file.
 */
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const STATUS_EVERY_MS = 2_000;
/** After a session closes the file is rewritten within this long, not at the next period. */
export const STATUS_SOON_MS = 200;

export interface AgentStatus {
  node_id: string;
  pid: number;
  version: string;
  coordinator: string;
  connected: boolean;
  model: { id: string; sha256: string; layers: [number, number]; n_layers: number };
  sessions: number;
  max_sessions: number;
  /** Since the agent started: sessions closed, positions computed, energy attested. */
  served: { sessions: number; tokens: number; energy_mj: number; cpu_ms: number; energy_method: string };
  consent: string;
  /** Native memory held for the model: its weights (only the layers held) and copies. */
  model_bytes: number;
  started_at: number;
  updated_at: number;
}

export function statusPath(configDir: string): string {
  return join(configDir, "status.json");
}

export function writeStatus(configDir: string, status: AgentStatus): void {
  const path = statusPath(configDir);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(status, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}

/** The last status written, or null when there is none (no agent has run with this config dir). */
export function readStatus(configDir: string): AgentStatus | null {
  try {
    return JSON.parse(readFileSync(statusPath(configDir), "utf8")) as AgentStatus;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new Error(`${statusPath(configDir)} is unreadable: ${(err as Error).message}`);
  }
}
