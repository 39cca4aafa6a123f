/**
 * What one machine produces for a chat: the chat template rendered to text and completed by
 * `aria-agent generate` (all layers in one process, greedy). Pipelines must match it exactly.
 */
import { spawnSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ROOT } from "../../scripts/local-network.mjs";
import { readGguf } from "../../shared/gguf/reader.ts";
import { chatTemplateOf, renderChat, tokenizerFromGguf } from "../../shared/tokenizer/index.ts";

export async function singleMachineChat(modelPath: string, userText: string, maxTokens: number): Promise<string> {
  const bytes = new Uint8Array(await readFile(modelPath));
  const file = readGguf(bytes, { fileSize: bytes.length });
  const tokenizer = tokenizerFromGguf(file.metadata);
  const prompt = renderChat(chatTemplateOf(file.metadata), [{ role: "user", content: userText }], {
    bosToken: tokenizer.tokenText(tokenizer.bosId!),
    eosToken: tokenizer.tokenText(tokenizer.eosId!),
    addGenerationPrompt: true,
  });
  return singleMachineCompletion(modelPath, prompt, maxTokens);
}

/** What `aria-agent generate` writes for raw prompt text at temperature 0 (one machine, all layers). */
export function singleMachineCompletion(modelPath: string, prompt: string, maxTokens: number): string {
  const r = spawnSync(
    join(ROOT, "node_modules", ".bin", "bunx"),
    ["aria-agent", "generate", "--model", modelPath, "--prompt", prompt, "--max-tokens", String(maxTokens), "--temperature", "0"],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (r.status !== 0) throw new Error(`aria-agent generate failed: ${r.stderr}`);
  return r.stdout.replace(/\n$/, "");
}
