import { describe, expect, test } from "bun:test";
import { parseLayers } from "../cli/commands/start.ts";
import { type LayerChoice, layerRange } from "./agent.ts";

/** parseLayers for an explicit (non-auto) value. */
function explicit(value: string): Exclude<LayerChoice, "auto"> {
  const choice = parseLayers(value);
  if (choice === "auto") throw new Error("unexpected auto");
  return choice;
}

describe("--layers", () => {
  test("inclusive ranges, single layers and even parts", () => {
    expect(layerRange(explicit("0-13"), 30)).toEqual({ layerBegin: 0, layerEnd: 14 });
    expect(layerRange(explicit("5"), 30)).toEqual({ layerBegin: 5, layerEnd: 6 });
    expect(layerRange(explicit("all"), 30)).toEqual({ layerBegin: 0, layerEnd: 30 });
    expect(parseLayers(undefined)).toBe("auto");
    const parts = [1, 2, 3, 4].map((i) => layerRange(explicit(`${i}/4`), 6));
    expect(parts).toEqual([
      { layerBegin: 0, layerEnd: 2 },
      { layerBegin: 2, layerEnd: 4 },
      { layerBegin: 4, layerEnd: 5 },
      { layerBegin: 5, layerEnd: 6 },
    ]);
  });

  test("nonsense is a usage error", () => {
    for (const bad of ["x", "3-1", "0/3", "4/3", "-1"]) expect(() => parseLayers(bad)).toThrow(/--layers/);
    expect(() => layerRange({ first: 0, last: 30 }, 30)).toThrow(/30 layers/);
    expect(() => layerRange({ part: 1, of: 7 }, 6)).toThrow(/only 6 layers/);
  });
});
