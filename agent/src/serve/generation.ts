/**
 * One chat completion on a model this agent holds whole: template → tokens → prefill → decode
 * loop, streaming each token to `emit` as it is produced. The event loop gets a turn between
 * steps so heartbeats and cancellations are handled while a long generation runs.
 */
import { sha256OfTokens } from "../../../shared/crypto/hash.ts";
import type { DoneMessage, GenerateMessage, SamplingParams, TokenMessage } from "../../../shared/protocol/messages.ts";
import type { LoadedModel } from "./loaded-model.ts";
import { sampleToken } from "./sampler.ts";
import { seededRandom } from "./seeded-random.ts";
import { StopMatcher } from "./stop-matcher.ts";

/** Prompt rows per forward call: bounds scratch memory during prefill. */
const PREFILL_CHUNK = 64;

/** A generation refused or failed for a reason the client should see. */
export class GenerationError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface GenerationSink {
  token(message: Omit<TokenMessage, "type" | "requestId">): void;
  done(message: Omit<DoneMessage, "type" | "requestId">): void;
  /** True once the coordinator cancelled the request or the link dropped. */
  cancelled(): boolean;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A chat completion request from the coordinator: chat template, then decode. */
export function runGeneration(model: LoadedModel, request: GenerateMessage, sink: GenerationSink): Promise<void> {
  return decode(model, model.promptTokens(request.messages), request.params, sink);
}

/** Complete `prompt` (token ids) token by token; see the module comment. */
export async function decode(model: LoadedModel, prompt: readonly number[], params: SamplingParams, sink: GenerationSink): Promise<void> {
  const { maxTokens, temperature, topP, seed, stop } = params;
  if (prompt.length === 0) throw new GenerationError("empty_prompt", "the prompt has no tokens");
  if (prompt.length >= model.contextLimit) {
    throw new GenerationError(
      "context_length_exceeded",
      `the prompt is ${prompt.length} tokens; this model's context is ${model.contextLimit} tokens`,
    );
  }
  const budget = Math.min(maxTokens, model.contextLimit - prompt.length);
  const random = seededRandom(seed ?? Math.floor(Math.random() * 2 ** 32));
  const session = model.native.createSession(0, model.native.info.nLayer, prompt.length + budget);
  try {
    let hidden: Float32Array = new Float32Array(0);
    for (let pos = 0; pos < prompt.length; pos += PREFILL_CHUNK) {
      const chunk = prompt.slice(pos, pos + PREFILL_CHUNK);
      hidden = session.forward(model.native.embed(chunk), chunk.length, pos);
      await yieldToEventLoop();
      if (sink.cancelled()) return;
    }
    const nEmbd = model.native.info.nEmbd;
    let last: Float32Array = hidden.subarray(hidden.length - nEmbd);
    const text = model.textStream();
    const stopper = new StopMatcher(stop);
    const output: number[] = [];
    let finishReason: "stop" | "length" = "length";
    let stopped = false;
    while (output.length < budget) {
      const id = sampleToken(model.native.logits(last, 1), { temperature, topP }, random);
      if (model.isEndOfGeneration(id)) {
        finishReason = "stop";
        break;
      }
      output.push(id);
      const piece = stopper.push(text.push(id));
      sink.token({ index: output.length - 1, tokenId: id, text: piece.emit });
      if (piece.stopped) {
        finishReason = "stop";
        stopped = true;
        break;
      }
      if (output.length === budget) break;
      last = session.forward(model.native.embed([id]), 1, prompt.length + output.length - 1);
      await yieldToEventLoop();
      if (sink.cancelled()) return;
    }
    // Text held back (an open UTF-8 sequence, a possible stop prefix) is released at the end.
    let tail = "";
    if (!stopped) {
      const rest = stopper.push(text.flush());
      tail = rest.emit + (rest.stopped ? "" : stopper.flush());
    }
    sink.done({
      finishReason,
      tail,
      promptTokens: prompt.length,
      completionTokens: output.length,
      promptSha256: await sha256OfTokens(prompt),
      outputSha256: await sha256OfTokens(output),
    });
  } finally {
    session.close();
  }
}
