/**
 * A replay's outputs are matched to the watched session's steps by position, not by arrival
 * order: a verdict must not depend on how messages of one socket were delivered.
 */
import { describe, expect, test } from "vitest";
import { encodeFrame } from "../../../../shared/protocol/frame.ts";
import type { OpenMessage } from "../../../../shared/protocol/messages.ts";
import { ByteBudget, frameStep, SessionWatch, type StepOutput } from "./session-watch.ts";
import { StageReplay } from "./stage-replay.ts";

const open: OpenMessage = {
  type: "open",
  session: 7,
  requestId: "chatcmpl-replay-order",
  task: "chat",
  contributionScore: 0,
  model: "m",
  stage: 0,
  stages: 1,
  layerBegin: 0,
  layerEnd: 4,
  nCtx: 64,
  params: { maxTokens: 8, temperature: 0, topP: 1, seed: 1, stop: [] },
  history: [2, 9],
};

/** A watched last stage that chose tokens 2+k at request indices 2…5, one feed per step. */
function watchedSession(): SessionWatch {
  const watch = new SessionWatch(
    { nodeId: "watched", sha256: "ab".repeat(32), agentVersion: "test", open },
    0, // nothing sampled: these tests start replays themselves
    () => 0.5,
    new ByteBudget(1 << 20),
    () => {},
    () => {},
  );
  for (let k = 0; k < 4; k++) {
    watch.input({ kind: "feed", pos0: 10 + k, tokens: [k] });
    watch.sampledOutput(2 + k, 20 + k, `hash-${k}`);
  }
  return watch;
}

/** A replay on one end of a real socket pair (what it sends is not read here). */
function replayOf(watch: SessionWatch, through: number, stopAtMismatch: boolean): StageReplay {
  const [, server] = Object.values(new WebSocketPair());
  server!.accept();
  const replay = new StageReplay("verifier", server!, 99, watch, through, stopAtMismatch, 10_000);
  expect(replay.start()).toBe(true);
  return replay;
}

const sampled = (index: number, tokenId: number, outputHash: string): StepOutput => ({ kind: "sampled", at: index, tokenId, outputHash });

describe("a stage replay", () => {
  test("outputs arriving out of order are placed at their steps and all agree", async () => {
    const watch = watchedSession();
    const replay = replayOf(watch, 3, true);
    for (const k of [0, 2, 1, 3]) replay.onOutput(sampled(2 + k, 20 + k, `hash-${k}`));
    const result = await replay.result;
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    expect(result.outputs.map((o) => o.at)).toEqual([2, 3, 4, 5]);
    expect(result.outputs).toEqual(watch.outputs);
  });

  test("a verifier's replay stops at the earliest differing step, even when a later one arrives first", async () => {
    const watch = watchedSession();
    const replay = replayOf(watch, 3, true);
    replay.onOutput(sampled(2, 20, "hash-0"));
    replay.onOutput(sampled(5, 23, "other")); // step 3 differs, and arrives before steps 1 and 2
    replay.onOutput(sampled(4, 22, "other")); // step 2 differs too
    replay.onOutput(sampled(3, 21, "hash-1"));
    const result = await replay.result;
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    expect(result.outputs.map((o) => o.at)).toEqual([2, 3, 4]);
    expect(result.outputs[2]).toMatchObject({ outputHash: "other" });
  });

  test("an output at no watched step takes the first free step, where it differs", async () => {
    const watch = watchedSession();
    const replay = replayOf(watch, 3, true);
    replay.onOutput(sampled(2, 20, "hash-0"));
    replay.onOutput(sampled(40, 21, "hash-1"));
    const result = await replay.result;
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    expect(result.outputs.map((o) => o.at)).toEqual([2, 40]);
  });

  test("frames are placed by their first position", async () => {
    const watch = new SessionWatch(
      { nodeId: "watched", sha256: "ab".repeat(32), agentVersion: "test", open: { ...open, stages: 2 } },
      0,
      () => 0.5,
      new ByteBudget(1 << 20),
      () => {},
      () => {},
    );
    const frame = (pos0: number, rows: number) =>
      encodeFrame({ session: 7, fromStage: 0, flags: 1, pos0, rows, width: 2 }, new Float32Array(rows * 2).fill(pos0)).buffer;
    const steps = [frame(0, 3), frame(3, 1), frame(4, 1)];
    for (const [k, f] of steps.entries()) {
      watch.input({ kind: "feed", pos0: k === 0 ? 0 : 2 + k, tokens: k === 0 ? [1, 2, 3] : [k] });
      watch.frameOutput(f);
    }
    const replay = replayOf(watch, 2, false);
    for (const k of [2, 0, 1]) replay.onOutput(frameStep(steps[k]!));
    const result = await replay.result;
    expect(result.kind).toBe("done");
    if (result.kind !== "done") return;
    expect(result.outputs.map((o) => o.at)).toEqual([0, 3, 4]);
  });
});
