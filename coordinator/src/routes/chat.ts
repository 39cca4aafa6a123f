/** POST /v1/chat/completions — non-streaming and SSE streaming, token by token. */
import { Hono } from "hono";
import { requireApiKey } from "../auth.ts";
import { type AppEnv, swarmStub } from "../env.ts";
import { ApiError } from "../errors.ts";
import { parseChatRequest } from "../openai/chat-request.ts";
import { chunkObject, completionObject, type FinishReason, usageChunkObject, usageOf } from "../openai/chat-response.ts";
import { type JobEvent, readEvents } from "../swarm/job-events.ts";

export const chat = new Hono<AppEnv>();

chat.post("/chat/completions", requireApiKey, async (c) => {
  const job = parseChatRequest(await c.req.text());
  const opened = await swarmStub(c.env).openCompletion(job);
  if (!opened.ok) {
    throw new ApiError(opened.code, opened.message, opened.code === "model_not_found" ? "model" : null);
  }
  const { requestId, events } = opened;
  const created = Math.floor(Date.now() / 1000);

  if (!job.stream) {
    let content = "";
    for await (const event of readEvents(events)) {
      if (event.type === "token") content += event.text;
      else if (event.type === "error") throw errorOf(event);
      else
        return c.json(
          completionObject(requestId, created, job.model, content, event.finishReason, usageOf(event.promptTokens, event.completionTokens)),
        );
    }
    throw new ApiError("stream_ended", "The agent's stream ended without a result.");
  }

  const encoder = new TextEncoder();
  const sse = (payload: unknown) => encoder.encode(`data: ${JSON.stringify(payload)}\n\n`);
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(sse(chunkObject(requestId, created, job.model, { role: "assistant", content: "" }, null)));
      let finished = false;
      try {
        for await (const event of readEvents(events)) {
          if (event.type === "token") {
            controller.enqueue(sse(chunkObject(requestId, created, job.model, { content: event.text }, null)));
          } else if (event.type === "error") {
            controller.enqueue(sse(errorOf(event).toBody()));
            finished = true;
            break;
          } else {
            controller.enqueue(sse(chunkObject(requestId, created, job.model, {}, event.finishReason as FinishReason)));
            if (job.includeUsage)
              controller.enqueue(sse(usageChunkObject(requestId, created, job.model, usageOf(event.promptTokens, event.completionTokens))));
            controller.enqueue(encoder.encode("data: [DONE]\n\n"));
            finished = true;
          }
        }
        if (!finished) controller.enqueue(sse(new ApiError("stream_ended", "The agent's stream ended without a result.").toBody()));
        controller.close();
      } catch (err) {
        controller.error(err);
      }
    },
    cancel(reason) {
      return events.cancel(reason);
    },
  });
  return new Response(body, {
    headers: { "content-type": "text/event-stream; charset=utf-8", "cache-control": "no-cache", "x-request-id": requestId },
  });
});

function errorOf(event: Extract<JobEvent, { type: "error" }>): ApiError {
  return new ApiError(event.code, event.message);
}
