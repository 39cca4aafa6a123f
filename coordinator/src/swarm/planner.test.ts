import { describe, expect, test } from "vitest";
import { EXPLORE_RATE, exploring, missingLayers, type Offer, planChain } from "./planner.ts";

const offer = (nodeId: string, layerBegin: number, layerEnd: number, stageMs = 10, active = 0, maxSessions = 4): Offer => ({
  nodeId,
  layerBegin,
  layerEnd,
  stageMs,
  active,
  maxSessions,
});

describe("planChain", () => {
  test("one whole-model agent is a one-stage chain", () => {
    expect(planChain([offer("a", 0, 6)], 6)).toEqual([{ nodeId: "a", layerBegin: 0, layerEnd: 6 }]);
  });

  test("tiles three shards in order", () => {
    const chain = planChain([offer("c", 4, 6), offer("a", 0, 2), offer("b", 2, 4)], 6);
    expect(chain?.map((s) => [s.nodeId, s.layerBegin, s.layerEnd])).toEqual([
      ["a", 0, 2],
      ["b", 2, 4],
      ["c", 4, 6],
    ]);
  });

  test("prefers the faster and the less loaded replica", () => {
    expect(planChain([offer("slow", 0, 6, 50), offer("fast", 0, 6, 10)], 6)?.[0]?.nodeId).toBe("fast");
    expect(planChain([offer("busy", 0, 6, 10, 3), offer("idle", 0, 6, 10, 0)], 6)?.[0]?.nodeId).toBe("idle");
  });

  test("overlapping offers still tile using sub-ranges; a full agent is skipped", () => {
    const chain = planChain([offer("a", 0, 4), offer("b", 2, 6)], 6);
    expect(chain?.map((s) => [s.nodeId, s.layerBegin, s.layerEnd])).toEqual([
      ["a", 0, 2],
      ["b", 2, 6],
    ]);
    expect(planChain([offer("a", 0, 6, 10, 4, 4)], 6)).toBeNull();
    expect(planChain([offer("a", 0, 6, 10, 4, 4)], 6, true)).not.toBeNull();
  });

  test("a gap means no chain, and missingLayers names it", () => {
    const offers = [offer("a", 0, 2), offer("c", 4, 6)];
    expect(planChain(offers, 6)).toBeNull();
    expect(missingLayers(offers, 6)).toEqual([[2, 4]]);
    expect(missingLayers([], 3)).toEqual([[0, 3]]);
  });
});

describe("exploration", () => {
  test("most plans see the measured stage times; EXPLORE_RATE of them random ones, so a slow agent still gets work", () => {
    const offers = [
      { nodeId: "fast", layerBegin: 0, layerEnd: 4, stageMs: 5, active: 0, maxSessions: 4 },
      { nodeId: "slow", layerBegin: 0, layerEnd: 4, stageMs: 50, active: 0, maxSessions: 4 },
    ];
    expect(exploring(offers, () => 0.5)).toEqual(offers);
    let chosenSlow = 0;
    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let i = 0; i < 2000; i++) if (planChain(exploring(offers, random), 4)![0]!.nodeId === "slow") chosenSlow++;
    // Chosen only when exploring, and then about half the time.
    expect(chosenSlow).toBeGreaterThan(2000 * EXPLORE_RATE * 0.3);
    expect(chosenSlow).toBeLessThan(2000 * EXPLORE_RATE);
  });
});
