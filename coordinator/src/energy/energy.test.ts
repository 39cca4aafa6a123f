/**
 * /v1/energy inside workerd: energy attestations signed into receipts are summed by node, model
 * and overall, with grades and a CO₂ estimate, and the sums equal what the ledger holds.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, test } from "vitest";
import { signReceipt } from "../../../shared/ledger/receipt.ts";
import { OUTPUT_HASH, ScriptedAgent } from "../../test/scripted-agent.ts";
import { gradeOf } from "./energy-report.ts";

const auth = { authorization: "Bearer test-key-1", "content-type": "application/json" };

async function completeWithEnergy(agent: ScriptedAgent, nodeId: string, secretKey: Uint8Array, model: string, mj: number) {
  const pending = SELF.fetch("http://coordinator.test/v1/chat/completions", {
    method: "POST",
    headers: auth,
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }], max_tokens: 1 }),
  });
  const tokenize = await agent.expect("tokenize");
  agent.send({ type: "tokenized", session: tokenize.session, tokens: [1, 2, 3] });
  const open = await agent.expect("open");
  await agent.expect("feed");
  agent.send({ type: "sampled", session: open.session, index: 0, tokenId: 4, text: "z", finish: "length", outputHash: OUTPUT_HASH });
  await agent.expect("close");
  const body = {
    v: 1 as const,
    request_id: open.requestId,
    node: nodeId,
    model_sha256: "ab".repeat(32),
    layers: [0, 4] as [number, number],
    tokens: 4,
    frames_in: 2,
    frames_out: 1,
    input_chain: "00".repeat(32),
    output_chain: "00".repeat(32),
    cpu_ms: 1,
    energy_mj: mj,
    energy_method: "estimate" as const,
  };
  agent.send({ type: "receipt", session: open.session, receipt: signReceipt(body, secretKey) });
  return ((await (await pending).json()) as { id: string }).id;
}

interface Report {
  overall: { energy_mj: number; tokens: number; mj_per_token: number; grade: string; co2_g: number; methods: Record<string, number> };
  models: { id: string; energy_mj: number; tokens: number }[];
  nodes: { node_id: string; energy_mj: number; tokens: number; grade: string }[];
}

describe("GET /v1/energy", () => {
  test("sums the signed attestations by node, model and overall, exactly as the ledger holds them", async () => {
    const agent = await ScriptedAgent.connect();
    const { nodeId, secretKey } = await agent.login("energy-model");
    const ids = [
      await completeWithEnergy(agent, nodeId, secretKey, "energy-model", 100),
      await completeWithEnergy(agent, nodeId, secretKey, "energy-model", 60),
    ];
    // Wait until both are sequenced.
    for (const id of ids) {
      for (let i = 0; i < 60; i++) {
        const res = await SELF.fetch(`http://coordinator.test/ledger/request/${id}`);
        if (res.status === 200) break;
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect((await SELF.fetch("http://coordinator.test/v1/energy")).status).toBe(401);
    const report = (await (await SELF.fetch("http://coordinator.test/v1/energy", { headers: auth })).json()) as Report;

    // The same sums, computed from the log's entries one by one.
    const checkpoint = await (await SELF.fetch("http://coordinator.test/ledger/checkpoint")).text();
    const size = Number(checkpoint.split("\n")[1]);
    let mj = 0;
    let tokens = 0;
    const perNode = new Map<string, number>();
    for (let i = 0; i < size; i++) {
      const { entry } = (await (await SELF.fetch(`http://coordinator.test/ledger/entry/${i}`)).json()) as {
        entry: {
          type: string;
          prompt_tokens: number;
          completion_tokens: number;
          stages: { node: string; receipt: { body: { energy_mj: number } } | null }[];
        };
      };
      if (entry.type !== "inference") continue;
      tokens += entry.prompt_tokens + entry.completion_tokens;
      for (const s of entry.stages) {
        if (!s.receipt) continue;
        mj += s.receipt.body.energy_mj;
        perNode.set(s.node, (perNode.get(s.node) ?? 0) + s.receipt.body.energy_mj);
      }
    }
    expect(report.overall.energy_mj).toBeCloseTo(mj, 3);
    expect(report.overall.tokens).toBe(tokens);
    expect(report.overall.grade).toBe(gradeOf(mj / tokens));
    const mine = report.nodes.find((n) => n.node_id === nodeId)!;
    expect(mine).toMatchObject({ energy_mj: 160, tokens: 8, mj_per_token: 20, grade: "A+" });
    expect(mine.energy_mj).toBe(perNode.get(nodeId));
    expect(report.models.find((m) => m.id === "energy-model")).toMatchObject({ energy_mj: 160, tokens: 8 });
    // 160 mJ at 400 g/kWh: 160 / 3.6e9 kWh × 400 g.
    expect(report.overall.co2_g).toBeCloseTo((mj / 3.6e9) * 400, 3);
    expect(report.overall.methods.estimate).toBeGreaterThanOrEqual(160);
    agent.ws.close();
  });

  test("grades run from A+ below 30 mJ per token to D from 150", () => {
    expect([10, 30, 59, 99, 149, 150, 900].map(gradeOf)).toEqual(["A+", "A", "A", "B", "C", "D", "D"]);
  });
});
