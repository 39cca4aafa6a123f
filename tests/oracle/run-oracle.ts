/**
 * Runs the llama.cpp side of an oracle test (llama-oracle.mjs under Node, since node-llama-cpp is a
 * Node addon and these tests run in Bun) and returns its JSON answer.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface OracleRequest {
  model: string;
  threads?: number;
  top?: number;
  tokenize?: { text: string; special: boolean }[];
  sequences?: number[][];
}

export interface OracleAnswer {
  vocab: { bos: number | null; eos: number | null; eot: number | null; addBos: boolean };
  tokenize: number[][];
  sequences: { argmax: number[]; top: [number, number][][] }[];
}

/** The Node child loads llama.cpp, tokenizes and evaluates everything (≈2 s here). */
export const ORACLE_TIMEOUT_MS = 45_000;

export async function runOracle(dir: string, request: OracleRequest): Promise<OracleAnswer> {
  const requestPath = join(dir, "request.json");
  writeFileSync(requestPath, JSON.stringify(request));
  // npm sets npm_node_execpath; under a bare `bun test` fall back to `node` on PATH.
  const node = process.env.npm_node_execpath ?? "node";
  const child = Bun.spawn([node, join(import.meta.dir, "llama-oracle.mjs"), requestPath], {
    cwd: join(import.meta.dir, "..", ".."),
    stdout: "pipe",
    stderr: "pipe",
    timeout: ORACLE_TIMEOUT_MS,
  });
  const [stdout, stderr, status] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (status !== 0) throw new Error(`llama-oracle.mjs failed (exit ${status}, ${child.signalCode ?? "no signal"}): ${stderr}`);
  return JSON.parse(stdout) as OracleAnswer;
}
