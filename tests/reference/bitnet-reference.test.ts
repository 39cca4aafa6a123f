import { describe, expect, test } from "bun:test";
import { buildBuiltinModel } from "../../agent/src/model/builtin-model.ts";
import { GgmlType } from "../../shared/gguf/constants.ts";
import { f16ToF32, f32ToF16 } from "../../shared/gguf/f16.ts";
import { gv } from "../../shared/gguf/metadata.ts";
import { packTernaryTq2_0 } from "../../shared/gguf/tq2-0.ts";
import { writeGguf } from "../../shared/gguf/writer.ts";
import { quantizeActivations, ReferenceModel, referenceLogits, rmsNorm, roundHalfEven } from "./bitnet-reference.ts";

const builtin = buildBuiltinModel();
const BOS = 507;

function argmax(v: Float64Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if ((v[i] as number) > (v[best] as number)) best = i;
  return best;
}

describe("numeric helpers", () => {
  test("round half to even", () => {
    expect([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, 2.6, -2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, -2, -2, 2, 3, -3]);
  });

  test("per-row absmax int8 quantization", () => {
    const { xq, s } = quantizeActivations(Float64Array.of(1, -0.5, 0.25, 2, -2));
    expect(s).toBe(127 / 2);
    expect(Array.from(xq)).toEqual([64, -32, 16, 127, -127]); // 31.75 -> 32, 63.5 -> 64 (even)
    const zero = quantizeActivations(new Float64Array(4));
    expect(zero.s).toBe(127 / 1e-5);
    expect(Array.from(zero.xq)).toEqual([0, 0, 0, 0]);
  });

  test("RMSNorm", () => {
    const y = rmsNorm(Float64Array.of(3, 4), Float64Array.of(1, 2), 0);
    const rms = Math.sqrt((9 + 16) / 2);
    expect(Array.from(y)).toEqual([3 / rms, (2 * 4) / rms]);
  });
});

describe("referenceLogits on a hand-checkable model", () => {
  test("zero BitLinear weights leave h = embedding, so logits = E · RMSNorm(e)", () => {
    const nEmbd = 256;
    const nVocab = 4;
    const emb = new Uint8Array(nEmbd * nVocab * 2);
    const view = new DataView(emb.buffer);
    for (let i = 0; i < nEmbd * nVocab; i++) view.setUint16(2 * i, f32ToF16(Math.sin(i * 0.37) * 0.5), true);
    const ones = (n: number) => new Uint8Array(new Float32Array(n).fill(1).buffer);
    const zeroTq = (a: number, b: number) => packTernaryTq2_0(new Int8Array(a * b), 1);
    const arch = "bitnet-b1.58";
    const p = "blk.0.";
    const bytes = writeGguf({
      metadata: [
        ["general.architecture", gv.str(arch)],
        [`${arch}.embedding_length`, gv.u32(nEmbd)],
        [`${arch}.block_count`, gv.u32(1)],
        [`${arch}.feed_forward_length`, gv.u32(256)],
        [`${arch}.attention.head_count`, gv.u32(4)],
        [`${arch}.attention.head_count_kv`, gv.u32(2)],
      ],
      tensors: [
        { name: "token_embd.weight", type: GgmlType.F16, dims: [nEmbd, nVocab], data: emb },
        { name: `${p}attn_norm.weight`, type: GgmlType.F32, dims: [nEmbd], data: ones(nEmbd) },
        { name: `${p}attn_q.weight`, type: GgmlType.TQ2_0, dims: [256, 256], data: zeroTq(256, 256) },
        { name: `${p}attn_k.weight`, type: GgmlType.TQ2_0, dims: [256, 128], data: zeroTq(256, 128) },
        { name: `${p}attn_v.weight`, type: GgmlType.TQ2_0, dims: [256, 128], data: zeroTq(256, 128) },
        { name: `${p}attn_sub_norm.weight`, type: GgmlType.F32, dims: [256], data: ones(256) },
        { name: `${p}attn_output.weight`, type: GgmlType.TQ2_0, dims: [256, 256], data: zeroTq(256, 256) },
        { name: `${p}ffn_norm.weight`, type: GgmlType.F32, dims: [nEmbd], data: ones(nEmbd) },
        { name: `${p}ffn_gate.weight`, type: GgmlType.TQ2_0, dims: [256, 256], data: zeroTq(256, 256) },
        { name: `${p}ffn_up.weight`, type: GgmlType.TQ2_0, dims: [256, 256], data: zeroTq(256, 256) },
        { name: `${p}ffn_sub_norm.weight`, type: GgmlType.F32, dims: [256], data: ones(256) },
        { name: `${p}ffn_down.weight`, type: GgmlType.TQ2_0, dims: [256, 256], data: zeroTq(256, 256) },
        { name: "output_norm.weight", type: GgmlType.F32, dims: [nEmbd], data: ones(nEmbd) },
      ],
    });
    const E = (t: number, i: number) => f16ToF32(view.getUint16(2 * (t * nEmbd + i), true));
    const rows = referenceLogits(bytes, [2, 0]);
    rows.forEach((row, pos) => {
      const tok = [2, 0][pos] as number;
      let ss = 0;
      for (let i = 0; i < nEmbd; i++) ss += E(tok, i) ** 2;
      const inv = 1 / Math.sqrt(ss / nEmbd + 1e-5);
      for (let t = 0; t < nVocab; t++) {
        let want = 0;
        for (let i = 0; i < nEmbd; i++) want += E(t, i) * E(tok, i) * inv;
        expect(row[t]).toBeCloseTo(want, 9);
      }
      expect(argmax(row)).toBe(tok); // a token is most similar to itself
    });
  });
});

describe("referenceLogits on the built-in model", () => {
  const prompt = [BOS, 300, 42, 271, 100, 511, 7, 280, 13, 300];

  test("finite logits with a reasonable spread at every position", () => {
    const rows = referenceLogits(builtin, prompt);
    expect(rows.length).toBe(prompt.length);
    for (const row of rows) {
      expect(row.length).toBe(512);
      let sum = 0;
      let sq = 0;
      for (const v of row) {
        expect(Number.isFinite(v)).toBe(true);
        sum += v;
        sq += v * v;
      }
      const std = Math.sqrt(sq / row.length - (sum / row.length) ** 2);
      expect(std).toBeGreaterThan(0.5);
      expect(std).toBeLessThan(10);
    }
    // Context matters: the same token at two positions gives different logits.
    expect(Array.from(rows[1] as Float64Array)).not.toEqual(Array.from(rows[9] as Float64Array));
  });

  test("hidden states after all 6 layers stay O(1)", () => {
    const m = new ReferenceModel(builtin);
    for (const t of prompt) {
      const h = m.hidden(t);
      const rms = Math.sqrt(h.reduce((a, v) => a + v * v, 0) / h.length);
      expect(Number.isFinite(rms)).toBe(true);
      expect(rms).toBeGreaterThan(0.5);
      expect(rms).toBeLessThan(20);
    }
  });

  test("causal and deterministic: a prefix gives the same rows", () => {
    const full = referenceLogits(builtin, prompt);
    const prefix = referenceLogits(builtin, prompt.slice(0, 4));
    for (const [i, row] of prefix.entries()) expect(Array.from(row)).toEqual(Array.from(full[i] as Float64Array));
  });

  test("stage-by-stage layers equal the whole forward pass (pipeline split)", () => {
    const whole = new ReferenceModel(builtin);
    const stageA = new ReferenceModel(builtin);
    const stageB = new ReferenceModel(builtin);
    for (const [pos, t] of prompt.entries()) {
      let h = stageA.embed(t);
      for (let l = 0; l < 3; l++) h = stageA.layer(l, h, pos);
      for (let l = 3; l < 6; l++) h = stageB.layer(l, h, pos);
      expect(Array.from(stageB.logits(h))).toEqual(Array.from(whole.step(t)));
    }
  });

  test("greedy decoding of random weights gives varied tokens", () => {
    const m = new ReferenceModel(builtin);
    let logits: Float64Array = new Float64Array(0);
    for (const t of prompt) logits = m.step(t);
    const out: number[] = [];
    for (let i = 0; i < 24; i++) {
      const next = argmax(logits);
      out.push(next);
      logits = m.step(next);
    }
    expect(new Set(out).size).toBeGreaterThanOrEqual(8);
  });
});
