import { describe, expect, test } from "bun:test";
import { applyMerges } from "./bpe-merge.ts";

function ranks(merges: string[]): (l: string, r: string) => number | undefined {
  const m = new Map(merges.map((s, i) => [s, i]));
  return (l, r) => m.get(`${l} ${r}`);
}

describe("applyMerges", () => {
  test("lowest rank first", () => {
    expect(applyMerges([..."abc"], ranks(["b c", "a b"]))).toEqual(["a", "bc"]);
    expect(applyMerges([..."abc"], ranks(["a b", "b c"]))).toEqual(["ab", "c"]);
    expect(applyMerges([..."abc"], ranks(["a b", "b c", "ab c"]))).toEqual(["abc"]);
  });

  test("equal ranks merge leftmost first", () => {
    expect(applyMerges([..."aaa"], ranks(["a a"]))).toEqual(["aa", "a"]);
    expect(applyMerges([..."aaaa"], ranks(["a a", "aa aa"]))).toEqual(["aaaa"]);
    // a a a a a -> aa a a a -> aa aa a (rank 0 beats "aa a") -> aa aaa
    expect(applyMerges([..."aaaaa"], ranks(["a a", "aa a"]))).toEqual(["aa", "aaa"]);
  });

  test("nothing to merge, tiny inputs", () => {
    expect(applyMerges([], ranks([]))).toEqual([]);
    expect(applyMerges(["x"], ranks([]))).toEqual(["x"]);
    expect(applyMerges([..."xyz"], ranks(["a b"]))).toEqual(["x", "y", "z"]);
  });

  test("matches a naive implementation on random words", () => {
    const merges = ["a b", "b a", "ab a", "a a", "b b", "ba b", "aa b", "ab ab", "c a", "ca b"];
    const rankOf = ranks(merges);
    const naive = (word: string[]) => {
      const s = [...word];
      for (;;) {
        let best = -1;
        let bestRank = Number.POSITIVE_INFINITY;
        for (let i = 0; i + 1 < s.length; i++) {
          const r = rankOf(s[i] as string, s[i + 1] as string);
          if (r !== undefined && r < bestRank) {
            bestRank = r;
            best = i;
          }
        }
        if (best < 0) return s;
        s.splice(best, 2, (s[best] as string) + (s[best + 1] as string));
      }
    };
    let seed = 99;
    for (let k = 0; k < 2000; k++) {
      const len = k % 17;
      const word: string[] = [];
      for (let i = 0; i < len; i++) {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        word.push("abc"[(seed >>> 16) % 3] as string);
      }
      expect(applyMerges(word, rankOf)).toEqual(naive(word));
    }
  });

  test("long runs stay fast", () => {
    const start = performance.now();
    const out = applyMerges(Array(50000).fill("a"), ranks(["a a", "aa aa", "aaaa aaaa"]));
    expect(out.join("").length).toBe(50000);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
