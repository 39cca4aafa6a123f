/**
 * Witnessing through the real Swarm inside workerd: an agent that logs in is asked to cosign the
 * latest checkpoint with a c2sp.org/tlog-witness request; its valid cosignature is served with the
 * checkpoint, a forged one is not, and a conflict answer makes the coordinator ask again from the
 * size the witness says it holds.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { openCheckpoint } from "../../../shared/ledger/checkpoint.ts";
import { signCosignature } from "../../../shared/ledger/cosignature.ts";
import { parseNote } from "../../../shared/ledger/note.ts";
import { verifyConsistency } from "../../../shared/ledger/tree-math.ts";
import { parseAddCheckpoint } from "../../../shared/ledger/witness-request.ts";
import { OUTPUT_HASH, ScriptedAgent } from "../../test/scripted-agent.ts";

const auth = { authorization: "Bearer test-key-1", "content-type": "application/json" };

async function vkey(): Promise<string> {
  return (await (await SELF.fetch("http://coordinator.test/ledger/vkey")).text()).trim();
}

async function servedCheckpoint() {
  return parseNote(await (await SELF.fetch("http://coordinator.test/ledger/checkpoint")).text());
}

/** One completed request on a one-stage scripted agent (no receipt: it is logged as missing). */
async function completeOne(agent: ScriptedAgent, model: string): Promise<string> {
  const pending = SELF.fetch("http://coordinator.test/v1/chat/completions", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 1 }),
  });
  const tokenize = await agent.expect("tokenize");
  agent.send({ type: "tokenized", session: tokenize.session, tokens: [1, 2] });
  const open = await agent.expect("open");
  await agent.expect("feed");
  agent.send({ type: "sampled", session: open.session, index: 0, tokenId: 3, text: "x", finish: "length", outputHash: OUTPUT_HASH });
  await agent.expect("close");
  const res = await pending;
  return ((await res.json()) as { id: string }).id;
}

describe("witnessing", () => {
  test("a logged-in agent is asked to cosign; its cosignature is served, a forged one is not", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId, secretKey } = await agent.login("witness-model");
    await completeOne(agent, "witness-model");
    const logKey = await vkey();
    // The first request after the entry is sequenced: old 0, the signed checkpoint.
    let body = await agent.nextWitnessRequest();
    let request = parseAddCheckpoint(body);
    while (request.tree.size === 0) {
      agent.send({ type: "witness_refused", size: 0, code: "bad_request", message: "waiting for a non-empty tree" });
      body = await agent.nextWitnessRequest();
      request = parseAddCheckpoint(body);
    }
    expect(request.oldSize).toBe(0);
    const opened = openCheckpoint(request.checkpoint, logKey);
    expect(opened?.checkpoint.size).toBe(request.tree.size);
    const line = signCosignature(opened!.note.text, `aria-node/${nodeId}`, secretKey, Math.floor(Date.now() / 1000));
    agent.send({ type: "cosigned", size: request.tree.size, line });

    // A second agent answers with a cosignature made by a key that is not its own.
    const liar = await ScriptedAgent.connect();
    const { nodeId: liarId } = await liar.login("witness-model");
    const liarRequest = parseAddCheckpoint(await liar.nextWitnessRequest());
    const forged = signCosignature(
      openCheckpoint(liarRequest.checkpoint, logKey)!.note.text,
      `aria-node/${liarId}`,
      new Uint8Array(32).fill(9),
      Math.floor(Date.now() / 1000),
    );
    liar.send({ type: "cosigned", size: liarRequest.tree.size, line: forged });

    let names: string[] = [];
    for (let i = 0; i < 50; i++) {
      const served = await servedCheckpoint();
      names = served.signatures.map((s) => s.name);
      if (names.includes(`aria-node/${nodeId}`)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(names).toContain(`aria-node/${nodeId}`);
    expect(names).not.toContain(`aria-node/${liarId}`);
    agent.ws.close();
    liar.ws.close();
  });

  test("a conflict answer makes the coordinator ask again from the size the witness holds, with a valid proof", async () => {
    const agent = await ScriptedAgent.connect();
    await agent.login("conflict-model");
    await completeOne(agent, "conflict-model");
    await completeOne(agent, "conflict-model");
    const logKey = await vkey();
    let request = parseAddCheckpoint(await agent.nextWitnessRequest());
    while (request.tree.size < 2) {
      agent.send({ type: "witness_refused", size: request.tree.size, code: "bad_request", message: "waiting" });
      request = parseAddCheckpoint(await agent.nextWitnessRequest());
    }
    // Claim to hold size 1: the coordinator must come back with old 1 and a proof from 1.
    agent.send({ type: "witness_refused", size: request.tree.size, code: "conflict", message: "I hold 1", latest: 1 });
    const retry = parseAddCheckpoint(await agent.nextWitnessRequest());
    expect(retry.oldSize).toBe(1);
    const entry0 = (await (await SELF.fetch("http://coordinator.test/ledger/entry/0")).json()) as { leaf_hash: string };
    const oldRoot = Uint8Array.from(atob(entry0.leaf_hash), (c) => c.charCodeAt(0));
    const opened = openCheckpoint(retry.checkpoint, logKey)!;
    expect(verifyConsistency(1, opened.checkpoint.size, retry.proof, oldRoot, opened.checkpoint.rootHash)).toBe(true);
    agent.ws.close();
  });
});
