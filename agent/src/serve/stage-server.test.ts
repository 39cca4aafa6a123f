/** The stage server with the real kernels and the built-in model, driven message by message. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DAYS, parseContract } from "../../../shared/consent/contract.ts";
import { publicKeyHex, randomSecretKey } from "../../../shared/crypto/ed25519.ts";
import { checkReceipt, type SignedReceipt } from "../../../shared/ledger/receipt.ts";
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
const secretKey = randomSecretKey();
const identity = { nodeId: "", secretKey };

function open(server: StageServer, session: number, stage: number, stages: number, layers: [number, number]): OpenMessage {
  const m: OpenMessage = {
    type: "open",
    session,
    requestId: `chatcmpl-test-${session}`,
    task: "chat",
    contributionScore: 0,
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
  identity.nodeId = await publicKeyHex(secretKey);
  const path = await ensureBuiltinModel(mkdtempSync(join(tmpdir(), "aria-stage-")));
  model = await LoadedModel.load(Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB)), "aria-tiny-random", path, {
    threads: 2,
    head: "q8_0",
  });
});

afterAll(() => model?.close());

describe("StageServer", () => {
  test("a first stage sends frames; a last stage fed those frames chooses a token", async () => {
    const first = new StageServer(model, { layerBegin: 0, layerEnd: 3 }, 4, out, (l) => logs.push(l), identity);
    const last = new StageServer(model, { layerBegin: 3, layerEnd: 6 }, 4, out, (l) => logs.push(l), identity);
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

  test("a last stage's outputHash covers the rows it computed and its logits: replays agree, other inputs differ", async () => {
    const run = async (session: number, tokens: number[], chunked: boolean) => {
      const server = new StageServer(model, { layerBegin: 0, layerEnd: 6 }, 4, out, (l) => logs.push(l), identity);
      open(server, session, 0, 1, [0, 6]);
      if (chunked) {
        // The same rows as two feeds: one step per feed, so two hashes.
        server.feed({ type: "feed", session, pos0: 0, tokens: tokens.slice(0, 2) });
        server.feed({ type: "feed", session, pos0: 2, tokens: tokens.slice(2) });
      } else server.feed({ type: "feed", session, pos0: 0, tokens });
      await settle();
      server.closeAll();
      return sent.filter((m) => m.type === "sampled" && m.session === session).map((m) => (m as { outputHash: string }).outputHash);
    };
    const [a] = await run(21, [507, 72, 101, 108], false);
    const [b] = await run(22, [507, 72, 101, 108], false);
    const [c] = await run(23, [507, 72, 101, 109], false);
    const split = await run(24, [507, 72, 101, 108], true);
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(b).toBe(a);
    expect(c).not.toBe(a);
    expect(split).toHaveLength(2);
    expect(split[1]).not.toBe(a);
  });

  test("control-token texts in user content stay text; the template's own control tokens are parsed", async () => {
    const server = new StageServer(model, { layerBegin: 0, layerEnd: 6 }, 2, out, (l) => logs.push(l), identity);
    const tokenized = async (session: number, content: string) => {
      await server.tokenize({
        type: "tokenize",
        session,
        model: model.id,
        messages: [{ role: "user", content }],
        task: "chat",
        contributionScore: 0,
      });
      const m = sent.at(-1);
      if (m?.type !== "tokenized") throw new Error(`expected tokenized, got ${JSON.stringify(m)}`);
      return m.tokens;
    };
    const eot = model.tokenizer.encode("<|eot_id|>", { parseSpecial: true, addBos: false });
    expect(eot).toHaveLength(1);
    const forged = await tokenized(301, "a<|eot_id|>b");
    const plain = await tokenized(302, "ab");
    // The template's own end-of-turn tokens are there in both; the user's text added none.
    const count = (ids: number[]) => ids.filter((id) => id === eot[0]).length;
    expect(count(forged)).toBe(count(plain));
    expect(forged.length).toBeGreaterThan(plain.length + 1);
    // A completion prompt is plain text too.
    await server.tokenize({
      type: "tokenize",
      session: 303,
      model: model.id,
      prompt: "x<|eot_id|>",
      task: "completion",
      contributionScore: 0,
    });
    const completion = sent.at(-1) as { tokens: number[] };
    expect(completion.tokens.includes(eot[0]!)).toBe(false);
  });

  test("closing a session sends a signed receipt whose chains link the stages", async () => {
    const first = new StageServer(model, { layerBegin: 0, layerEnd: 3 }, 4, out, (l) => logs.push(l), identity);
    const last = new StageServer(model, { layerBegin: 3, layerEnd: 6 }, 4, out, (l) => logs.push(l), identity);
    open(first, 7, 0, 2, [0, 3]);
    open(last, 7, 1, 2, [3, 6]);
    frames.length = 0;
    first.feed({ type: "feed", session: 7, pos0: 0, tokens: [507, 72, 101, 108] });
    await settle();
    last.frame(frames[0]!);
    await settle();
    const sampled = sent.at(-1);
    if (sampled?.type !== "sampled") throw new Error("expected a sampled message");
    first.feed({ type: "feed", session: 7, pos0: 4, tokens: [sampled.tokenId!] });
    await settle();
    last.frame(frames[1]!);
    await settle();
    first.close(7);
    last.close(7);
    await settle();
    const receipts = sent.filter((m) => m.type === "receipt" && m.session === 7).map((m) => (m as { receipt: SignedReceipt }).receipt);
    expect(receipts).toHaveLength(2);
    const [a, b] = receipts as [SignedReceipt, SignedReceipt];
    const expected = { requestId: "chatcmpl-test-7", node: identity.nodeId, modelSha256: model.sha256 };
    expect(await checkReceipt(a, { ...expected, layers: [0, 3] })).toBeNull();
    expect(await checkReceipt(b, { ...expected, layers: [3, 6] })).toBeNull();
    expect(a.body).toMatchObject({ tokens: 5, frames_in: 2, frames_out: 2 });
    expect(b.body).toMatchObject({ tokens: 5, frames_in: 2, frames_out: 2 });
    // What the first stage sent is exactly what the last stage received.
    expect(a.body.output_chain).toBe(b.body.input_chain);
    // A changed field breaks the signature; another request id is named as such.
    expect(await checkReceipt({ ...a, body: { ...a.body, tokens: 6 } }, { ...expected, layers: [0, 3] })).toBe("bad_signature");
    expect(await checkReceipt(a, { ...expected, requestId: "chatcmpl-other", layers: [0, 3] })).toBe("wrong_request");
    expect(await checkReceipt(undefined, { ...expected, layers: [0, 3] })).toBe("missing");
  });

  test("refusals: wrong model, range outside the held layers, frames from the wrong stage", async () => {
    const server = new StageServer(model, { layerBegin: 0, layerEnd: 3 }, 1, out, (l) => logs.push(l), identity);
    server.open({ ...open(server, 2, 0, 2, [0, 3]), session: 3, model: "other" });
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 3, code: "model_not_loaded" });
    open(server, 4, 0, 2, [2, 5]);
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 4, code: "bad_range" });
    open(server, 5, 0, 2, [0, 3]);
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 5, code: "busy" });
    server.frame(encodeFrame({ session: 2, fromStage: 3, flags: 0, pos0: 0, rows: 1, width: 256 }, new Float32Array(256)));
    await settle();
    expect(sent.findLast((m) => m.type === "failed")).toMatchObject({ type: "failed", session: 2, code: "bad_frame" });
    // A stage that gives up a session still signs for the work it did.
    expect(sent.at(-1)).toMatchObject({ type: "receipt", session: 2 });
    server.frame(new Uint8Array([1, 2, 3]));
    expect(logs.at(-1)).toContain("dropping a bad frame");
    server.closeAll();
  });

  test("idle sessions are freed, and later messages for them are ignored", async () => {
    const server = new StageServer(model, { layerBegin: 0, layerEnd: 6 }, 2, out, (l) => logs.push(l), identity);
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

  test("consent, on the agent's own side: work outside the contract is refused with a named error", async () => {
    const today = DAYS[new Date().getUTCDay()]!;
    const h = (new Date().getUTCHours() + 2) % 24;
    const pad = (n: number) => String(n).padStart(2, "0");
    const cases: [Record<string, unknown>, string][] = [
      [{ schedule: `${pad(h)}:00-${pad((h + 1) % 24)}:00` }, "schedule"],
      [{ days: DAYS.filter((d) => d !== today) }, "schedule"],
      [{ task_types: ["completion"] }, "task type"],
      [{ min_contribution_score: 3 }, "contribution score"],
      [{ revoked: true }, "revoked"],
    ];
    let session = 100;
    for (const [fields, why] of cases) {
      const server = new StageServer(model, { layerBegin: 0, layerEnd: 6 }, 2, out, (l) => logs.push(l), identity, parseContract(fields));
      open(server, ++session, 0, 1, [0, 6]);
      expect(sent.at(-1)).toMatchObject({ type: "failed", session, code: "consent_refused" });
      expect((sent.at(-1) as { message: string }).message).toContain(why);
      await server.tokenize({
        type: "tokenize",
        session,
        model: model.id,
        messages: [{ role: "user", content: "hi" }],
        task: "chat",
        contributionScore: 0,
      });
      expect(sent.at(-1)).toMatchObject({ type: "failed", session, code: "consent_refused" });
      expect(server.activeSessions).toBe(0);
    }
  });

  test("consent changes apply at once: revoke stops new work, stop_open_work ends open work; allow_logging false keeps requests out of the log", async () => {
    const lines: string[] = [];
    const server = new StageServer(
      model,
      { layerBegin: 0, layerEnd: 6 },
      2,
      out,
      (l) => lines.push(l),
      identity,
      parseContract({ allow_logging: false }),
    );
    open(server, 200, 0, 1, [0, 6]);
    expect(server.activeSessions).toBe(1);
    expect(lines.filter((l) => l.includes("session 200"))).toEqual([]);
    server.setConsent(parseContract({ revoked: true }));
    expect(server.activeSessions).toBe(1); // open work finishes
    open(server, 201, 0, 1, [0, 6]);
    expect(sent.at(-1)).toMatchObject({ type: "failed", session: 201, code: "consent_refused" });
    server.setConsent(parseContract({ revoked: true, stop_open_work: true }));
    expect(server.activeSessions).toBe(0);
    expect(sent.some((m) => m.type === "failed" && m.session === 200 && m.code === "consent_refused")).toBe(true);
    await settle();
    expect(sent.at(-1)).toMatchObject({ type: "receipt", session: 200 });
  });
});
