/**
 * Running one API request's choices on the network — one run per prompt × n, opened together so
 * the agents batch their steps — and merging their event streams in arrival order. The response
 * shape (chat or text completion) is the caller's: it gets (choice index, event) pairs.
 */
import { toHex } from "../../../shared/crypto/hex.ts";
import { swarmStub } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { JobEvent } from "../swarm/job-events.ts";
import type { ChatJob } from "./chat-request.ts";

export interface OpenedChoices {
  /** The response id: the first choice's request id (later choices log as `<id>-<index>`). */
  id: string;
  streams: ReadableStream<Uint8Array>[];
}

/** Open every choice; on any refusal, close the opened ones and throw that refusal. */
export async function openChoices(env: Env, jobs: readonly ChatJob[], prefix: "chatcmpl" | "cmpl"): Promise<OpenedChoices> {
  const id = `${prefix}-${toHex(crypto.getRandomValues(new Uint8Array(12)))}`;
  const perChoice: (ChatJob & { requestId: string })[] = [];
  for (const job of jobs) {
    for (let k = 0; k < job.n; k++) {
      const index = perChoice.length;
      // Choices of one prompt differ by seed (a given seed still makes the whole response reproducible).
      const params = job.params.seed !== undefined ? { ...job.params, seed: job.params.seed + k } : job.params;
      perChoice.push({ ...job, params, requestId: index === 0 ? id : `${id}-${index}` });
    }
  }
  const stub = swarmStub(env);
  const opened = await Promise.all(perChoice.map((job) => stub.openCompletion(job)));
  const refusal = opened.find((o) => !o.ok);
  if (refusal && !refusal.ok) {
    await Promise.all(opened.map((o) => (o.ok ? o.events.cancel("another choice was refused") : undefined)));
    throw new ApiError(refusal.code, refusal.message, refusal.code === "model_not_found" ? "model" : null);
  }
  return { id, streams: opened.map((o) => (o.ok ? o.events : new ReadableStream<Uint8Array>())) };
}

/**
 * Every choice's events, interleaved as they arrive, tagged with the choice index. `cancel()`
 * stops every choice's generation (the client went away, or one choice failed).
 */
export class MergedEvents {
  private readonly readers: ReadableStreamDefaultReader<Uint8Array>[];
  private cancelled = false;

  constructor(streams: readonly ReadableStream<Uint8Array>[]) {
    this.readers = streams.map((s) => s.getReader());
  }

  async *events(): AsyncGenerator<{ index: number; event: JobEvent }> {
    const decoder = this.readers.map(() => new TextDecoder());
    const buffered = this.readers.map(() => "");
    const pending = new Map<number, Promise<{ index: number; result: ReadableStreamReadResult<Uint8Array> }>>();
    const pull = (index: number) =>
      pending.set(
        index,
        this.readers[index]!.read().then(
          (result) => ({ index, result }),
          () => ({ index, result: { done: true, value: undefined } as ReadableStreamReadResult<Uint8Array> }),
        ),
      );
    for (let i = 0; i < this.readers.length; i++) pull(i);
    while (pending.size > 0 && !this.cancelled) {
      const { index, result } = await Promise.race(pending.values());
      if (result.done) {
        pending.delete(index);
        continue;
      }
      pull(index);
      buffered[index] += decoder[index]!.decode(result.value, { stream: true });
      let nl = buffered[index]!.indexOf("\n");
      while (nl >= 0) {
        const line = buffered[index]!.slice(0, nl);
        buffered[index] = buffered[index]!.slice(nl + 1);
        if (line.length > 0) yield { index, event: JSON.parse(line) as JobEvent };
        nl = buffered[index]!.indexOf("\n");
      }
    }
  }

  async cancel(reason: unknown): Promise<void> {
    this.cancelled = true;
    await Promise.all(this.readers.map((r) => r.cancel(reason).catch(() => undefined)));
  }
}
