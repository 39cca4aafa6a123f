/** ARIA's side of a teacher-forced comparison with llama.cpp (the oracle tests). */
import type { NativeModel } from "../../agent/src/kernels/engine.ts";

/** The whole model's logits at every position of `ids` ([position][vocab]) and each row's argmax. */
export function teacherForced(native: NativeModel, ids: readonly number[]): { logits: Float32Array; argmax: number[] } {
  const { nLayer, nVocab } = native.info;
  const session = native.createSession(0, nLayer, ids.length);
  const logits = native.logits(session.forward(native.embed(ids), ids.length, 0), ids.length);
  session.close();
  const argmax = ids.map((_, p) => {
    const row = logits.subarray(p * nVocab, (p + 1) * nVocab);
    let best = 0;
    for (let t = 1; t < nVocab; t++) if (row[t]! > row[best]!) best = t;
    return best;
  });
  return { logits, argmax };
}

/** Positions where ARIA's argmax equals llama.cpp's, over all sequences, and how many there were. */
export function argmaxAgreement(native: NativeModel, sequences: readonly (readonly number[])[], llama: readonly { argmax: number[] }[]) {
  let agree = 0;
  let positions = 0;
  sequences.forEach((ids, s) => {
    teacherForced(native, ids).argmax.forEach((best, p) => {
      positions++;
      if (best === llama[s]!.argmax[p]) agree++;
    });
  });
  return { agree, positions };
}
