/**
 * The merge loop of both tokenizers: repeatedly merge the adjacent pair with the lowest rank, the
 * leftmost one among equal ranks — BPE's merge rank (llama.cpp's and Hugging Face's order), or
 * SentencePiece's negated token score (llama.cpp's llm_tokenizer_spm order). A binary heap of
 * candidate pairs plus a doubly linked list of symbols makes a word of n symbols O(n log n), so
 * long runs (10k spaces, a base64 blob) stay cheap.
 */

/** Rank of merging `left` + `right`, or undefined if the pair is not a merge. */
export type MergeRank = (left: string, right: string) => number | undefined;

/** A candidate merge: symbols `left` and `right` (adjacent), valid while both versions match. */
interface Candidate {
  rank: number;
  left: number;
  right: number;
  leftVersion: number;
  rightVersion: number;
}

function before(a: Candidate, b: Candidate): boolean {
  return a.rank < b.rank || (a.rank === b.rank && a.left < b.left);
}

class CandidateHeap {
  private readonly items: Candidate[] = [];

  get size(): number {
    return this.items.length;
  }

  push(c: Candidate): void {
    const h = this.items;
    h.push(c);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i] as Candidate, h[p] as Candidate)) break;
      [h[i], h[p]] = [h[p] as Candidate, h[i] as Candidate];
      i = p;
    }
  }

  pop(): Candidate | undefined {
    const h = this.items;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l] as Candidate, h[m] as Candidate)) m = l;
        if (r < h.length && before(h[r] as Candidate, h[m] as Candidate)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m] as Candidate, h[i] as Candidate];
        i = m;
      }
    }
    return top;
  }
}

/**
 * Merges `symbols` (initially one per byte) by rank and returns the final symbols in order.
 * @example applyMerges(["a", "b", "c"], (l, r) => (l + r === "ab" ? 0 : undefined)) // ["ab", "c"]
 */
export function applyMerges(symbols: readonly string[], rankOf: MergeRank): string[] {
  const steps = mergeSteps(symbols, rankOf, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * {@link applyMerges} as a generator that pauses every `stepsPerYield` merges, for callers that
 * merge one long run of symbols (SentencePiece merges a whole text, not a word at a time) and
 * must give the event loop a turn meanwhile. Returns the final symbols.
 */
export function* mergeSteps(symbols: readonly string[], rankOf: MergeRank, stepsPerYield: number): Generator<void, string[]> {
  const n = symbols.length;
  if (n < 2) return [...symbols];
  const text = [...symbols];
  const prev = new Int32Array(n);
  const next = new Int32Array(n);
  const version = new Int32Array(n); // bumped whenever a symbol changes; -1 once merged away
  for (let i = 0; i < n; i++) {
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  const heap = new CandidateHeap();
  const consider = (left: number, right: number) => {
    if (left < 0 || right < 0) return;
    const rank = rankOf(text[left] as string, text[right] as string);
    if (rank === undefined) return;
    heap.push({ rank, left, right, leftVersion: version[left] as number, rightVersion: version[right] as number });
  };
  for (let i = 0; i + 1 < n; i++) consider(i, i + 1);

  let steps = 0;
  while (heap.size > 0) {
    if (++steps % stepsPerYield === 0) yield;
    const c = heap.pop() as Candidate;
    // Stale if either side changed or was merged away since the candidate was queued.
    if (version[c.left] !== c.leftVersion || version[c.right] !== c.rightVersion || next[c.left] !== c.right) continue;
    text[c.left] = (text[c.left] as string) + (text[c.right] as string);
    version[c.left] = (version[c.left] as number) + 1;
    version[c.right] = -1;
    const after = next[c.right] as number;
    next[c.left] = after;
    if (after >= 0) prev[after] = c.left;
    consider(prev[c.left] as number, c.left);
    consider(c.left, after);
  }

  const out: string[] = [];
  for (let i = 0; i >= 0; i = next[i] as number) out.push(text[i] as string);
  return out;
}
