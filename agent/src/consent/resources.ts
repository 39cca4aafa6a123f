/**
 * What the consent contract lets this agent use of its machine: threads from `cpu_percent`,
 * sessions from `max_concurrent_tasks`, layers from `max_ram_mb` (docs/consent.md).
 */
import type { ConsentContract } from "../../../shared/consent/contract.ts";
import { threadsAllowed } from "../../../shared/consent/contract.ts";
import { largestLayer, type ModelFootprint, rangeBytes } from "../model/footprint.ts";

const MB = 2 ** 20;

export interface ResourceLimits {
  threads: number;
  maxSessions: number;
  /** Most layers of this model the memory allows (each counted at the largest layer's bytes). */
  maxLayers: number;
  /** Bytes the agent may hold: the consent's max_ram_mb or 80 % of free memory, the lower. */
  memoryBudget: number;
}

export function resourceLimits(
  c: ConsentContract,
  machine: { cores: number; freeBytes: number },
  asked: { threads?: number; maxSessions: number },
  model: ModelFootprint,
): ResourceLimits {
  const budget = Math.min(machine.freeBytes * 0.8, c.max_ram_mb * MB);
  return {
    threads: threadsAllowed(c, machine.cores, asked.threads),
    maxSessions: Math.min(asked.maxSessions, c.max_concurrent_tasks),
    maxLayers: Math.min(model.nLayers, Math.floor(budget / largestLayer(model))),
    memoryBudget: budget,
  };
}

/**
 * A picked range shortened from its end until what it holds — its layers and, at the ends, the
 * embedding or the head — fits `budget`; null when not even its first layer does.
 */
export function fitRange(
  model: ModelFootprint,
  range: { layerBegin: number; layerEnd: number },
  budget: number,
): { layerBegin: number; layerEnd: number } | null {
  for (let end = range.layerEnd; end > range.layerBegin; end--) {
    const r = { layerBegin: range.layerBegin, layerEnd: end };
    if (rangeBytes(model, r) <= budget) return r;
  }
  return null;
}
