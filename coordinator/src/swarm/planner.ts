/**
 * Chain planning: pick agents whose layer ranges tile [0, nLayers) at the lowest estimated
 * cost (docs/pipeline.md). Pure functions over a snapshot of the shard map, so they are easy
 * to test.
 */

/** One agent's offer for a model. */
export interface Offer {
  nodeId: string;
  layerBegin: number;
  layerEnd: number;
  /** Estimated time for this agent to run its stage of one step, ms (EWMA; round trip included). */
  stageMs: number;
  active: number;
  maxSessions: number;
}

/** A planned stage: an agent and the layers it runs in this chain (within its offer). */
export interface PlannedStage {
  nodeId: string;
  layerBegin: number;
  layerEnd: number;
}

/** Cost of using an offer: slower and busier agents cost more; ties go to the less loaded. */
function cost(o: Offer): number {
  return o.stageMs * (1 + o.active / o.maxSessions) + 1e-3 * o.active;
}

/**
 * The cheapest chain covering [0, nLayers), or null. Offers at capacity are skipped unless
 * `ignoreCapacity` (used to answer "is this model covered at all"). A stage may run a sub-range
 * of an agent's offer, so overlapping offers still tile.
 */
export function planChain(offers: readonly Offer[], nLayers: number, ignoreCapacity = false): PlannedStage[] | null {
  const usable = offers.filter((o) => ignoreCapacity || o.active < o.maxSessions);
  const cuts = [...new Set([0, nLayers, ...usable.flatMap((o) => [o.layerBegin, o.layerEnd])])]
    .filter((b) => b >= 0 && b <= nLayers)
    .sort((a, b) => a - b);
  // best[b]: cheapest way to have run layers [0, b); boundaries only grow, so one sweep in order suffices.
  const best = new Map<number, { total: number; prev: number; offer: Offer | null }>([[0, { total: 0, prev: -1, offer: null }]]);
  for (const b of cuts) {
    const here = best.get(b);
    if (!here) continue;
    for (const o of usable) {
      if (o.layerBegin > b || o.layerEnd <= b) continue;
      for (const e of cuts) {
        if (e <= b || e > o.layerEnd) continue;
        const total = here.total + cost(o);
        const seen = best.get(e);
        if (!seen || total < seen.total) best.set(e, { total, prev: b, offer: o });
      }
    }
  }
  if (!best.has(nLayers)) return null;
  const chain: PlannedStage[] = [];
  for (let e = nLayers; e > 0; ) {
    const step = best.get(e)!;
    chain.push({ nodeId: step.offer!.nodeId, layerBegin: step.prev, layerEnd: e });
    e = step.prev;
  }
  return chain.reverse();
}

/**
 * Share of plans that explore: their offers' measured stage times are replaced by random ones,
 * so slower agents still get some work. Without it an agent measured slow once (say, while busy
 * verifying) would never be measured again, never be chosen, and never have its work checked.
 */
export const EXPLORE_RATE = 0.1;

/** The offers as this plan should see them: as they are, or (EXPLORE_RATE of plans) with random stage times. */
export function exploring<T extends Offer>(offers: readonly T[], random: () => number = Math.random): T[] {
  if (random() >= EXPLORE_RATE) return [...offers];
  return offers.map((o) => ({ ...o, stageMs: 1 + random() }));
}

/** Layers no offer covers, as [begin, end) ranges (for the 503 message). */
export function missingLayers(offers: readonly Offer[], nLayers: number): [number, number][] {
  const covered = new Uint8Array(nLayers);
  for (const o of offers) covered.fill(1, o.layerBegin, Math.min(o.layerEnd, nLayers));
  const gaps: [number, number][] = [];
  for (let l = 0; l < nLayers; l++) {
    if (covered[l]) continue;
    const start = l;
    while (l < nLayers && !covered[l]) l++;
    gaps.push([start, l]);
  }
  return gaps;
}

/** Exponentially weighted moving average of a stage time; the first sample replaces the prior. */
export function updateEwma(previous: number | undefined, sample: number, alpha = 0.2): number {
  return previous === undefined ? sample : previous + alpha * (sample - previous);
}

/** An offer with the model file it serves: only agents with the same file may share a chain. */
export type FileOffer = Offer & { sha256: string; nLayers: number };

/**
 * planChain over agents holding the same model file (same sha256): agents announcing one model id
 * with different files never share a chain, since their activations would not mean the same thing.
 * Files with more holders are tried first. Returns the file's offers with the chain.
 */
export function planByFile<T extends FileOffer>(
  offers: readonly T[],
  ignoreCapacity = false,
): { sha256: string; offers: T[]; chain: PlannedStage[] } | null {
  const byFile = new Map<string, T[]>();
  for (const o of offers) byFile.set(o.sha256, [...(byFile.get(o.sha256) ?? []), o]);
  const groups = [...byFile.entries()].sort((a, b) => b[1].length - a[1].length || a[0].localeCompare(b[0]));
  for (const [sha256, group] of groups) {
    const chain = planChain(group, group[0]!.nLayers, ignoreCapacity);
    if (chain) return { sha256, offers: group, chain };
  }
  return null;
}
