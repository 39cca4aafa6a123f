/**
 * Generation on this machine alone (`aria-agent generate`): every layer in one shard, the same
 * batcher and TokenChooser as a pipeline's stages, so a local run and a pipelined run of the
 * same prompt and parameters produce the same tokens.
 */
import type { SamplingParams } from "../../../shared/protocol/messages.ts";
import { tokenBudget } from "../../../shared/protocol/token-budget.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { ShardBatcher } from "./shard-batcher.ts";
import { type Choice, TokenChooser } from "./token-chooser.ts";

/** Prompt rows per forward call: bounds scratch memory during prefill. */
export const PREFILL_CHUNK = 64;

/** A generation refused for a reason the user should see. */
export class GenerationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Complete `prompt` token by token, calling `onChoice` for each choice until finished. */
export async function generateLocally(
  model: LoadedModel,
  prompt: readonly number[],
  params: SamplingParams,
  onChoice: (choice: Choice) => void,
): Promise<{ generated: number; finish: "stop" | "length" }> {
  const answer = tokenBudget(prompt.length, params.maxTokens, model.contextLimit);
  if (!answer.ok) throw new GenerationError(answer.code, answer.message);
  const budget = answer.budget;
  const chooser = new TokenChooser(model, { ...params, maxTokens: budget, seed: params.seed ?? Math.floor(Math.random() * 2 ** 32) });
  const native = model.native;
  const shard = native.createShard(0, native.info.nLayer, 1);
  try {
    const seq = shard.openSequence(prompt.length + budget);
    const batcher = new ShardBatcher(native, shard, model.pool, PREFILL_CHUNK);
    let logits: Float32Array | null = null;
    for (let pos = 0; pos < prompt.length; pos += PREFILL_CHUNK) {
      const chunk = prompt.slice(pos, pos + PREFILL_CHUNK);
      const final = pos + PREFILL_CHUNK >= prompt.length;
      ({ logits } = await batcher.run(seq, native.embed(chunk), chunk.length, pos, final));
    }
    for (let pos = prompt.length; ; pos++) {
      const choice = chooser.choose(logits!);
      onChoice(choice);
      if (choice.finish) return { generated: chooser.count, finish: choice.finish };
      ({ logits } = await batcher.run(seq, native.embed([choice.tokenId!]), 1, pos, true));
    }
  } finally {
    shard.close();
  }
}
