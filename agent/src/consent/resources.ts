/**
 * What the consent contract lets this agent use of its machine: threads from `cpu_percent`,
 * sessions from `max_concurrent_tasks`, layers from `max_ram_mb` (docs/consent.md).
 */
import type { ConsentContract } from "../../../shared/consent/contract.ts";
import { threadsAllowed } from "../../../shared/consent/contract.ts";
import { layersThatFit } from "../serve/pick-layers.ts";

const MB = 2 ** 20;

export interface ResourceLimits {
  threads: number;
  maxSessions: number;
  /** Most layers of this model the contract's memory allows. */
  maxLayers: number;
}

export function resourceLimits(
  c: ConsentContract,
  machine: { cores: number; freeBytes: number },
  asked: { threads?: number; maxSessions: number },
  model: { fileBytes: number; nLayers: number },
): ResourceLimits {
  const budget = Math.min(machine.freeBytes * 0.8, c.max_ram_mb * MB);
  return {
    threads: threadsAllowed(c, machine.cores, asked.threads),
    maxSessions: Math.min(asked.maxSessions, c.max_concurrent_tasks),
    maxLayers: Math.floor(budget / (model.fileBytes / model.nLayers)) >= 1 ? layersThatFit(model.fileBytes, model.nLayers, budget) : 0,
  };
}

/** Memory a layer range holds, estimated as its even share of the file. */
export function heldBytes(model: { fileBytes: number; nLayers: number }, layers: { layerBegin: number; layerEnd: number }): number {
  return Math.ceil((model.fileBytes * (layers.layerEnd - layers.layerBegin)) / model.nLayers);
}
