/**
 * Byte-level BPE training (the classic algorithm): count adjacent symbol pairs over the corpus
 * words, merge the most frequent pair, repeat. Words come from the same Llama-3 pre-tokenizer the
 * tokenizer uses, so learned merges never cross word boundaries it will see. Ties are broken by
 * the pair's text in UTF-16 code-unit order, which makes the result fully deterministic.
 */
import { BYTE_TO_CHAR, bytesToTokenText } from "../../../shared/tokenizer/byte-encoding.ts";
import { preTokenize } from "../../../shared/tokenizer/pre-tokenizer.ts";

/** The learned vocabulary: 256 byte tokens then one token per new merge result. */
export interface BpeTrainingResult {
  /** Token texts in byte-mapped form; ids 0..255 are the bytes in order. */
  readonly vocab: readonly string[];
  /** `"A B"` merge rules, rank = index. */
  readonly merges: readonly string[];
}

/** Options of {@link trainBpe}. */
export interface TrainBpeOptions {
  /** Stop after this many merges. */
  readonly targetMerges: number;
  /** Only merge pairs seen at least this often (default 2). */
  readonly minFrequency?: number;
}

/**
 * Learns up to `targetMerges` merges from `corpus`; stops early when no pair is frequent enough.
 * @example trainBpe("low lower lowest", { targetMerges: 10 }).merges[0] // "l o"
 */
export function trainBpe(corpus: string, options: TrainBpeOptions): BpeTrainingResult {
  const minFrequency = options.minFrequency ?? 2;
  const encoder = new TextEncoder();
  const counts = new Map<string, number>();
  for (const w of preTokenize(corpus, "llama3")) counts.set(w, (counts.get(w) ?? 0) + 1);
  // Distinct words as symbol sequences, in first-seen order.
  const words = [...counts].map(([w, count]) => ({ symbols: [...bytesToTokenText(encoder.encode(w))], count }));

  const vocab = [...BYTE_TO_CHAR];
  const known = new Set(vocab);
  const merges: string[] = [];
  while (merges.length < options.targetMerges) {
    const pairs = new Map<string, number>();
    for (const { symbols, count } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        // Symbols never contain a raw space (it is mapped to Ġ), so "A B" is unambiguous.
        const key = `${symbols[i]} ${symbols[i + 1]}`;
        pairs.set(key, (pairs.get(key) ?? 0) + count);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [key, c] of pairs) {
      if (c > bestCount || (c === bestCount && best !== undefined && key < best)) {
        best = key;
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const space = best.indexOf(" ");
    const left = best.slice(0, space);
    const right = best.slice(space + 1);
    const merged = left + right;
    merges.push(best);
    if (!known.has(merged)) {
      known.add(merged);
      vocab.push(merged);
    }
    for (const word of words) {
      const s = word.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; i++) {
        if (i + 1 < s.length && s[i] === left && s[i + 1] === right) {
          out.push(merged);
          i++;
        } else out.push(s[i] as string);
      }
      word.symbols = out;
    }
  }
  return { vocab, merges };
}
