/** The Swarm's in-memory state of one client request and of its current chain attempt. */
import type { ChatMessage, SamplingParams } from "../../../shared/protocol/messages.ts";

export interface StageRef {
  nodeId: string;
  ws: WebSocket;
  layerBegin: number;
  layerEnd: number;
  /** When this stage last got work, and last produced output (for timing and stall blame). */
  lastInputAt: number;
  lastOutputAt: number;
}

export interface Attempt {
  /** Numeric session id of this attempt; messages of older attempts carry other ids. */
  session: number;
  chain: StageRef[];
  /** True once every stage has been opened and the feed sent. */
  running: boolean;
  lastProgressAt: number;
}

export interface RequestState {
  requestId: string;
  model: string;
  nLayers: number;
  /** The model's context (the smallest any stage offers). */
  nCtx: number;
  messages: ChatMessage[];
  /** Sampling parameters with the seed fixed, so replays make the same choices. */
  params: SamplingParams & { seed: number };
  controller: ReadableStreamDefaultController<Uint8Array>;
  startedAt: number;
  /** Prompt token ids (from the first stage's `tokenized`), then each sampled id. */
  prompt: number[] | null;
  generated: number[];
  /** Tokens the request may generate (max_tokens, capped by the context). */
  budget: number;
  attempt: Attempt | null;
  failovers: number;
  /** Agents that failed this request; never planned for it again. */
  excluded: Set<string>;
  /** Resolves when the prompt is tokenized (or rejects); set while tokenizing. */
  tokenized: { resolve: () => void; reject: (err: RequestError) => void } | null;
  done: boolean;
}

/** A request-level failure with the HTTP status and code the client should see. */
export class RequestError extends Error {
  constructor(
    readonly status: 400 | 500 | 502 | 503 | 504,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
