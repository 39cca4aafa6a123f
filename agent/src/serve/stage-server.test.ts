/** The stage server with the real kernels and the built-in model, driven message by message. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeFrame, encodeFrame, FLAG_FINAL } from "../../../shared/protocol/frame.ts";
import type { AgentMessage, OpenMessage } from "../../../shared/protocol/messages.ts";
import { Kernels } from "../kernels/engine.ts";
import { kernelLibraryPath } from "../kernels/library-path.ts";
import { ensureBuiltinModel } from "../model/builtin.ts";
import { LoadedModel } from "./loaded-model.ts";
import { SESSION_IDLE_MS, StageServer } from "./stage-server.ts";

let model: LoadedModel;
const sent: AgentMessage[] = [];
const frames: Uint8Array[] = [];
const logs: string[] = [];
const out = { send: (m: AgentMessage) => sent.push(m) > 0, sendFrame: (b: Uint8Array) => frames.push(b) > 0 };
const params = { maxTokens: 3, temperature: 0, topP: 1, seed: 1, stop: [] };

function open(server: StageServer, session: number, stage: number, stages: number, layers: [number, number]): OpenMessage {
  const m: OpenMessage = {
    type: "open",
    session,
    model: model.id,
    stage,
    stages,
    layerBegin: layers[0],
    layerEnd: layers[1],
    nCtx: 64,
    params,
    history: [],
  };
  server.open(m);
  return m;
}

const settle = () => new Promise((r) => setTimeout(r, 20));

beforeAll(async () => {
  const path = await ensureBuiltinModel(mkdtempSync(join(tmpdir(), "aria-stage-")));
  model = await LoadedModel.load(Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB)), "aria-tiny-random", path, {
    threads: 2,
    head: "q8_0",
  });
});

afterAll(() => model?.close());

describe("StageServer", () => {
  test("a first stage sends frames; a last stage fed those frames chooses a token", async () => {
    const first = new StageServer(model, { layerBegin: 0, layerEnd: 3 }, 4, out, (l) => logs.push(l));
    const last = new StageServer(model, { layerBegin: 3, layerEnd: 6 }, 4, out, (l) => logs.push(l));
    open(first, 1, 0, 2, [0, 3]);
    open(last, 1, 1, 2, [3, 6]);
    first.feed({ type: "feed", session: 1, pos0: 0, tokens: [507, 72, 101, 108] });
    await settle();
    expect(frames).toHaveLength(1);
    const frame = decodeFrame(frames[0]!);
    expect(frame).toMatchObject({ session: 1, fromStage: 0, flags: FLAG_FINAL, pos0: 0, rows: 4, width: 256 });
    last.frame(frames[0]!);
    await settle();
    expect(sent.at(-1)).toMatchObject({ type: "sampled", session: 1, index: 0, finish: null });
    first.closeAll();
    last.closeAll();
  });

  test("refusals: wrong model, range outside the held layers, frames from the wrong stage", async () => {
    const server = new StageServer(model, { layerBegin: 0, layerEnd: 3 }, 1, out, (l) => logs.push(l));
    server.open({ ...open(server, 2, 0, 2, [0, 3]), session: 3, model: "other" });
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 3, code: "model_not_loaded" });
    open(server, 4, 0, 2, [2, 5]);
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 4, code: "bad_range" });
    open(server, 5, 0, 2, [0, 3]);
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 5, code: "busy" });
    server.frame(encodeFrame({ session: 2, fromStage: 3, flags: 0, pos0: 0, rows: 1, width: 256 }, new Float32Array(256)));
    await settle();
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 2, code: "bad_frame" });
    server.frame(new Uint8Array([1, 2, 3]));
    expect(logs.at(-1)).toContain("dropping a bad frame");
    server.closeAll();
  });

  test("idle sessions are freed, and later messages for them are ignored", async () => {
    const server = new StageServer(model, { layerBegin: 0, layerEnd: 6 }, 2, out, (l) => logs.push(l));
    open(server, 6, 0, 1, [0, 6]);
    expect(server.activeSessions).toBe(1);
    expect(server.sweepIdle(Date.now() + SESSION_IDLE_MS / 2)).toBe(0);
    expect(server.sweepIdle(Date.now() + SESSION_IDLE_MS + 1)).toBe(1);
    expect(server.activeSessions).toBe(0);
    const before = sent.length;
    server.feed({ type: "feed", session: 6, pos0: 0, tokens: [1] });
    await settle();
    expect(sent.length).toBe(before);
  });
});
