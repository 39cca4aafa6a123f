/**
 * POST /v1/chat/completions and POST /v1/completions — one or several choices, as one object or
 * as SSE chunks token by token (docs/api.md). Bodies are read with a size limit first; the key's
 * limits admit the request (or answer 429), and its slot and usage are settled when it is over.
 */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import type { AppEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import { type Admitted, admit } from "../keys/admission.ts";
import { maxBodyBytes, readBodyLimited } from "../openai/body-limit.ts";
import { type ChatJob, parseChatRequest } from "../openai/chat-request.ts";
import { type FinishReason, usageOf } from "../openai/chat-response.ts";
import { MergedEvents, openChoices } from "../openai/choices.ts";
import { parseCompletionRequest } from "../openai/completion-request.ts";
import { CHAT_SHAPE, type ChoiceResult, COMPLETION_SHAPE, type ResponseShape } from "../openai/response-shapes.ts";
import { MAX_CHOICES } from "../openai/sampling-request.ts";
import type { JobEvent } from "../swarm/job-events.ts";

export const chat = new Hono<AppEnv>();

chat.post("/chat/completions", requireApiKey, async (c) => {
  const job = parseChatRequest(await readBodyLimited(c.req.raw, maxBodyBytes(c.env)));
  return respond(c.env, c.executionCtx, await admit(c.env, c.get("caller")), [job], CHAT_SHAPE);
});

chat.post("/completions", requireApiKey, async (c) => {
  const jobs = parseCompletionRequest(await readBodyLimited(c.req.raw, maxBodyBytes(c.env)));
  return respond(c.env, c.executionCtx, await admit(c.env, c.get("caller")), jobs, COMPLETION_SHAPE);
});

/** Usage of a response: each prompt counted once, every choice's generated tokens. */
class UsageCount {
  private readonly prompt = new Map<number, number>();
  completion = 0;
  constructor(private readonly promptOfChoice: number[]) {}
  add(index: number, e: Extract<JobEvent, { type: "done" }>): void {
    this.prompt.set(this.promptOfChoice[index]!, e.promptTokens);
    this.completion += e.completionTokens;
  }
  get usage() {
    return usageOf(
      [...this.prompt.values()].reduce((a, b) => a + b, 0),
      this.completion,
    );
  }
  /** What the key is billed: nothing unless some choice completed. */
  get billed() {
    return this.prompt.size === 0 ? null : { promptTokens: this.usage.prompt_tokens, completionTokens: this.completion };
  }
}

async function respond(
  env: Env,
  ctx: { waitUntil(p: Promise<unknown>): void },
  gate: Admitted,
  jobs: ChatJob[],
  shape: ResponseShape,
): Promise<Response> {
  const first = jobs[0]!;
  let opened: Awaited<ReturnType<typeof openChoices>>;
  try {
    if (jobs.reduce((n, j) => n + j.n, 0) > MAX_CHOICES)
      throw new ApiError("invalid_request", `At most ${MAX_CHOICES} choices per request.`, "n");
    opened = await openChoices(env, jobs, shape.prefix);
  } catch (err) {
    await gate.settle(null, first.user);
    throw err;
  }
  const { id, streams } = opened;
  const promptOfChoice = jobs.flatMap((j, p) => new Array<number>(j.n).fill(p));
  const created = Math.floor(Date.now() / 1000);
  const merged = new MergedEvents(streams);
  const usage = new UsageCount(promptOfChoice);

  if (!first.stream) {
    const wantLogprobs = first.params.topLogprobs !== undefined;
    const results: ChoiceResult[] = promptOfChoice.map(() => ({
      text: "",
      finishReason: "stop" as FinishReason,
      logprobs: wantLogprobs ? [] : null,
    }));
    let done = 0;
    try {
      for await (const { index, event } of merged.events()) {
        if (event.type === "token") {
          results[index]!.text += event.text;
          if (event.logprobs) results[index]!.logprobs?.push(event.logprobs);
        } else if (event.type === "error") {
          await merged.cancel("a choice failed");
          throw new ApiError(event.code, event.message);
        } else {
          results[index]!.finishReason = event.finishReason;
          usage.add(index, event);
          done++;
        }
      }
    } finally {
      await gate.settle(usage.billed, first.user);
    }
    if (done < results.length) throw new ApiError("stream_ended", "The agents' stream ended without a result.");
    return Response.json(shape.complete(id, created, first.model, results, usage.usage), {
      headers: { "x-request-id": id, ...gate.headers },
    });
  }

  const encoder = new TextEncoder();
  const sse = (payload: unknown) => encoder.encode(`data: ${JSON.stringify(payload)}\n\n`);
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (let i = 0; i < promptOfChoice.length; i++) {
        const opening = shape.opening(id, created, first.model, i);
        if (opening) controller.enqueue(sse(opening));
      }
      let finished = 0;
      try {
        for await (const { index, event } of merged.events()) {
          if (event.type === "token")
            controller.enqueue(
              sse(shape.chunk(id, created, first.model, index, event.text, null, event.logprobs ? [event.logprobs] : null)),
            );
          else if (event.type === "error") {
            controller.enqueue(sse(new ApiError(event.code, event.message).toBody()));
            await merged.cancel("a choice failed");
            controller.close();
            return;
          } else {
            controller.enqueue(sse(shape.chunk(id, created, first.model, index, null, event.finishReason, null)));
            usage.add(index, event);
            finished++;
          }
        }
        if (finished < promptOfChoice.length) {
          controller.enqueue(sse(new ApiError("stream_ended", "The agents' stream ended without a result.").toBody()));
        } else {
          if (first.includeUsage) controller.enqueue(sse(shape.usage(id, created, first.model, usage.usage)));
          controller.enqueue(encoder.encode("data: [DONE]\n\n"));
        }
        controller.close();
      } catch (err) {
        controller.error(err);
      } finally {
        ctx.waitUntil(gate.settle(usage.billed, first.user));
      }
    },
    cancel(reason) {
      ctx.waitUntil(gate.settle(usage.billed, first.user));
      return merged.cancel(reason);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": id, ...gate.headers },
  });
}
