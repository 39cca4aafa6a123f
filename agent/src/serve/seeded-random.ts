/** A uniform [0, 1) source for sampling, from the request's seed (same seed, same draws). */
import { Prng } from "../model/prng.ts";

export function seededRandom(seed: number): () => number {
  const prng = new Prng(seed >>> 0);
  return () => prng.nextFloat();
}
