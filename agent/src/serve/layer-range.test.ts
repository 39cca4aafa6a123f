import { describe, expect, test } from "bun:test";
import { parseLayers } from "../cli/commands/start.ts";
import { layerRange } from "./agent.ts";

describe("--layers", () => {
  test("inclusive ranges, single layers and even parts", () => {
    expect(layerRange(parseLayers("0-13"), 30)).toEqual({ layerBegin: 0, layerEnd: 14 });
    expect(layerRange(parseLayers("5"), 30)).toEqual({ layerBegin: 5, layerEnd: 6 });
    expect(layerRange(parseLayers(undefined), 30)).toEqual({ layerBegin: 0, layerEnd: 30 });
    const parts = [1, 2, 3, 4].map((i) => layerRange(parseLayers(`${i}/4`), 6));
    expect(parts).toEqual([
      { layerBegin: 0, layerEnd: 2 },
      { layerBegin: 2, layerEnd: 4 },
      { layerBegin: 4, layerEnd: 5 },
      { layerBegin: 5, layerEnd: 6 },
    ]);
  });

  test("nonsense is a usage error", () => {
    for (const bad of ["x", "3-1", "0/3", "4/3", "-1"]) expect(() => parseLayers(bad)).toThrow(/--layers/);
    expect(() => layerRange(parseLayers("0-30"), 30)).toThrow(/30 layers/);
    expect(() => layerRange(parseLayers("1/7"), 6)).toThrow(/only 6 layers/);
  });
});
