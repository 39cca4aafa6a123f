/**
 * The native forward pass against the independent float64 reference (tests/reference), on the
 * built-in model, stage by stage: embedding, each layer fed the same input hidden states, and
 * the head.
 *
 * Why stage by stage: per-token int8 activation quantization is discontinuous. Where a scaled
 * activation lands within float32 rounding of a .5 boundary, f32 and f64 legitimately round it
 * to neighbouring integers; through the KV cache and the next layers such a flip grows into
 * order-0.1 logit differences, so a free-running comparison would test luck, not correctness.
 * Feeding both sides the same inputs keeps every stage's comparison meaningful; a real bug
 * (wrong order, wrong scale, wrong head mapping) gives order-1 errors at most positions.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readGguf } from "../../../shared/gguf/reader.ts";
import { BpeTokenizer } from "../../../shared/tokenizer/index.ts";
import { ReferenceModel } from "../../../tests/reference/bitnet-reference.ts";
import { ensureBuiltinModel } from "../model/builtin.ts";
import { Kernels, type NativeModel } from "./engine.ts";
import { kernelLibraryPath } from "./library-path.ts";

/** Embedding rows are F16 widened to f32: exact. */
const EMBED_ABS_TOL = 0;
/** A layer's output row, relative to the row's max magnitude, where no activation flip happened. */
const LAYER_REL_TOL = 1e-4;
/** The worst row of a layer, flips included (measured: a flip moves a row by 3e-3 to 1.6e-2). */
const LAYER_FLIP_REL_TOL = 3e-2;
/** At least this share of all rows must be within LAYER_REL_TOL. */
const LAYER_MIN_EXACT_SHARE = 0.95;
/** Logits from identical hidden states: float head, different summation precision only. */
const LOGIT_ABS_TOL = 1e-4;

const TEXT =
  "BitNet b1.58 keeps every weight in {-1, 0, +1}. Agents on 12 consumer PCs split 30 layers — ünïcödé, emoji 🙂, and\ttabs too!";

let kernels: Kernels;
let native: NativeModel;
let reference: ReferenceModel;
let tokens: number[];

beforeAll(async () => {
  const path = await ensureBuiltinModel(mkdtempSync(join(tmpdir(), "aria-fwd-")));
  const bytes = new Uint8Array(await Bun.file(path).arrayBuffer());
  tokens = BpeTokenizer.fromGguf(readGguf(bytes).metadata).encode(TEXT, { addBos: true });
  reference = new ReferenceModel(bytes);
  kernels = Kernels.open(kernelLibraryPath(process.env.ARIA_KERNELS_LIB));
  native = kernels.loadModel(path);
});

afterAll(() => {
  native?.close();
  kernels?.close();
});

function row(buf: Float32Array, r: number, width: number): Float64Array {
  return Float64Array.from(buf.subarray(r * width, (r + 1) * width));
}

function relErr(got: Float64Array, want: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < want.length; i++) {
    err = Math.max(err, Math.abs(got[i]! - want[i]!));
    scale = Math.max(scale, Math.abs(want[i]!));
  }
  return err / scale;
}

describe("native forward pass vs the float64 reference", () => {
  test("the prompt is long enough to matter", () => {
    expect(tokens.length).toBeGreaterThan(40);
  });

  test("stage by stage: embedding exact, layers within tolerance, logits and argmax agree", () => {
    const { nEmbd, nLayer, nVocab } = native.info;
    const n = tokens.length;
    let hidden = native.embed(tokens);
    for (let p = 0; p < n; p++) {
      const want = reference.embed(tokens[p]!);
      const got = row(hidden, p, nEmbd);
      for (let i = 0; i < nEmbd; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(EMBED_ABS_TOL);
    }

    let exactRows = 0;
    for (let l = 0; l < nLayer; l++) {
      const session = native.createSession(l, l + 1, n);
      const out = session.forward(hidden, n, 0);
      session.close();
      for (let p = 0; p < n; p++) {
        const err = relErr(row(out, p, nEmbd), reference.layer(l, row(hidden, p, nEmbd), p));
        expect(err).toBeLessThan(LAYER_FLIP_REL_TOL);
        if (err < LAYER_REL_TOL) exactRows++;
      }
      hidden = out;
    }
    expect(exactRows / (n * nLayer)).toBeGreaterThanOrEqual(LAYER_MIN_EXACT_SHARE);

    const logits = native.logits(hidden, n);
    for (let p = 0; p < n; p++) {
      const want = reference.logits(row(hidden, p, nEmbd));
      const got = row(logits, p, nVocab);
      let best = 0;
      let second = -Infinity;
      for (let t = 0; t < nVocab; t++) {
        expect(Math.abs(got[t]! - want[t]!)).toBeLessThanOrEqual(LOGIT_ABS_TOL);
        if (want[t]! > want[best]!) best = t;
      }
      for (let t = 0; t < nVocab; t++) if (t !== best) second = Math.max(second, want[t]!);
      let nativeBest = 0;
      for (let t = 1; t < nVocab; t++) if (got[t]! > got[nativeBest]!) nativeBest = t;
      // The argmax must agree wherever the reference's top two are further apart than the tolerance.
      if (want[best]! - second > 2 * LOGIT_ABS_TOL) expect(nativeBest).toBe(best);
    }
  });

  test("one session over all layers equals the layer-by-layer chain bit for bit", () => {
    const { nEmbd, nLayer } = native.info;
    const n = tokens.length;
    const whole = native.createSession(0, nLayer, n);
    const direct = whole.forward(native.embed(tokens), n, 0);
    whole.close();
    let chained = native.embed(tokens);
    for (let l = 0; l < nLayer; l++) {
      const s = native.createSession(l, l + 1, n);
      chained = s.forward(chained, n, 0);
      s.close();
    }
    expect(Buffer.from(direct.buffer).equals(Buffer.from(chained.buffer))).toBe(true);
    expect(direct.length).toBe(n * nEmbd);
  });
});
