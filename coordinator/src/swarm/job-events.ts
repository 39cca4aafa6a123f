/**
 * Events the Swarm streams to the Worker for one request, as NDJSON over an RPC ReadableStream.
 * The Worker turns them into SSE chunks or one completion object. Error codes are the API's
 * (shared/protocol/errors.ts); the Worker derives status and type from them.
 */
import type { RequestErrorCode } from "../../../shared/protocol/errors.ts";

export type JobEvent =
  | { type: "token"; text: string }
  | { type: "done"; finishReason: "stop" | "length"; promptTokens: number; completionTokens: number }
  | { type: "error"; code: RequestErrorCode; message: string };

/** What `Swarm.openCompletion` answers: a refusal before any work, or the event stream. */
export type OpenResult =
  | { ok: false; code: RequestErrorCode; message: string }
  | { ok: true; requestId: string; events: ReadableStream<Uint8Array> };

const encoder = new TextEncoder();

export function encodeEvent(event: JobEvent): Uint8Array {
  return encoder.encode(`${JSON.stringify(event)}\n`);
}

/** Split a byte stream of NDJSON into events. */
export async function* readEvents(stream: ReadableStream<Uint8Array>): AsyncGenerator<JobEvent> {
  const decoder = new TextDecoder();
  let buffered = "";
  const reader = stream.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffered += decoder.decode(value, { stream: true });
      let nl = buffered.indexOf("\n");
      while (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.length > 0) yield JSON.parse(line) as JobEvent;
        nl = buffered.indexOf("\n");
      }
    }
  } finally {
    reader.releaseLock();
  }
}
