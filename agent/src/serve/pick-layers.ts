/**
 * Which layers an agent started without --layers serves: what the network is missing first,
 * else what is least replicated, never more than fits in the memory it may use.
 */

/** [begin, end) for a model whose layer l is held by `replicas[l]` agents; at most maxLayers long. */
export function pickLayers(replicas: readonly number[], maxLayers: number): { layerBegin: number; layerEnd: number } {
  const n = replicas.length;
  const width = Math.max(1, Math.min(maxLayers, n));
  // The first uncovered run wins: the model cannot be served until it is filled.
  const gap = replicas.indexOf(0);
  if (gap >= 0) {
    let end = gap;
    while (end < n && replicas[end] === 0 && end - gap < width) end++;
    return { layerBegin: gap, layerEnd: end };
  }
  // Everything is covered: take the window with the fewest replicas (the earliest on ties).
  let best = 0;
  let bestSum = Number.POSITIVE_INFINITY;
  for (let b = 0; b + width <= n; b++) {
    let sum = 0;
    for (let l = b; l < b + width; l++) sum += replicas[l]!;
    if (sum < bestSum) {
      bestSum = sum;
      best = b;
    }
  }
  return { layerBegin: best, layerEnd: best + width };
}
