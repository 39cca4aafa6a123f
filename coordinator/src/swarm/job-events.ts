/**
 * Events the Swarm streams to the Worker for one request, as NDJSON over an RPC ReadableStream.
 * The Worker turns them into SSE chunks or one completion object. Error codes are the API's
 * (shared/protocol/errors.ts); the Worker derives status and type from them.
 */
import type { RequestErrorCode } from "../../../shared/protocol/errors.ts";

/** One generated token's log-probability and its top alternatives, as the last stage reported them. */
export interface TokenLogprob {
  token: string;
  bytes: number[];
  logprob: number;
}
export type TokenLogprobs = TokenLogprob & { top: TokenLogprob[] };

export type JobEvent =
  | { type: "token"; text: string; logprobs?: TokenLogprobs }
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
