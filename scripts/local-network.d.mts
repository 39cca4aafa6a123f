import type { ChildProcess } from "node:child_process";

export const ROOT: string;
export function freePort(): Promise<number>;
export function waitFor<T>(
  what: string,
  check: () => Promise<T | null | undefined | false> | T | null | undefined | false,
  opts?: { timeoutMs?: number; intervalMs?: number; process?: ChildProcess },
): Promise<T>;
export function stopGroup(child: ChildProcess | undefined, graceMs?: number): Promise<void>;
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void;
export function applyMigrations(persistDir: string): void;
export function startCoordinator(opts: {
  port: number;
  persistDir: string;
  apiKey: string;
  ledgerKey?: string;
  /** ARIA_ADMIN_TOKEN for the admin endpoints (none: they refuse everyone). */
  adminToken?: string;
  onLine?: (line: string) => void;
  timeoutMs?: number;
}): Promise<{ url: string; child: ChildProcess }>;
export function startAgent(opts: {
  coordinator: string;
  model: string;
  configDir: string;
  cacheDir?: string;
  extraArgs?: string[];
  /** Extra environment for the agent (e.g. ARIA_KERNELS_LIB). */
  env?: Record<string, string>;
  onLine?: (line: string) => void;
  /** The agent's command file (default the checkout's; an installed package's bin). */
  entry?: string;
}): ChildProcess;
export function waitForModel(
  url: string,
  apiKey: string,
  modelId: string,
  opts?: { timeoutMs?: number; process?: ChildProcess },
): Promise<unknown>;
