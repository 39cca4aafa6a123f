import { describe, expect, test } from "bun:test";
import { BpeTokenizer } from "../../../shared/tokenizer/bpe-tokenizer.ts";
import { trainBpe } from "./bpe-trainer.ts";
import { BUILTIN_CORPUS } from "./corpus.ts";

describe("trainBpe", () => {
  test("merges the most frequent pair first, ties by text", () => {
    const { merges, vocab } = trainBpe("low low low lower lowest", { targetMerges: 3 });
    // Words: "low", " low"×2, " lower", " lowest". Pairs "l o" and "o w" both occur 5 times
    // ("Ġ l" only 4): the tie goes to the smaller text, "l o".
    expect(merges).toEqual(["l o", "lo w", "Ġ low"]);
    expect(vocab.slice(256)).toEqual(["lo", "low", "Ġlow"]);
    expect(vocab.length).toBe(259);
  });

  test("stops at the target, or when no pair is frequent enough", () => {
    expect(trainBpe(BUILTIN_CORPUS, { targetMerges: 10 }).merges.length).toBe(10);
    const all = trainBpe("abc abd", { targetMerges: 100 });
    // Words "abc" and " abd": only "a b" occurs twice; after it every pair occurs once.
    expect(all.merges).toEqual(["a b"]);
    expect(trainBpe("abc abd", { targetMerges: 100, minFrequency: 1 }).merges.length).toBeGreaterThan(2);
  });

  test("deterministic, and merges never cross pre-token boundaries", () => {
    const a = trainBpe(BUILTIN_CORPUS, { targetMerges: 251 });
    const b = trainBpe(BUILTIN_CORPUS, { targetMerges: 251 });
    expect(a).toEqual(b);
    for (const t of a.vocab.slice(256)) expect(t.indexOf("Ġ", 1)).toBe(-1); // a space only at the start
  });

  test("a tokenizer built from the result round-trips and uses the merges", () => {
    const { vocab, merges } = trainBpe(BUILTIN_CORPUS, { targetMerges: 251 });
    const tok = new BpeTokenizer({ tokens: vocab, merges, pre: "llama-bpe" });
    const text = "The river turned slowly toward the sea.";
    const ids = tok.encode(text, { addBos: false });
    expect(tok.decode(ids)).toBe(text);
    expect(ids.length).toBeLessThan(new TextEncoder().encode(text).length * 0.6);
    expect(ids).toContain(tok.tokenId("Ġthe") as number);
  });
});
