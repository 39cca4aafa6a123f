import { describe, expect, test } from "bun:test";
import { pickLayers } from "./pick-layers.ts";

describe("pickLayers", () => {
  test("an empty network: the whole model if it fits, else the first part", () => {
    expect(pickLayers([0, 0, 0, 0, 0, 0], 6)).toEqual({ layerBegin: 0, layerEnd: 6 });
    expect(pickLayers([0, 0, 0, 0, 0, 0], 4)).toEqual({ layerBegin: 0, layerEnd: 4 });
  });

  test("fills what is missing first", () => {
    expect(pickLayers([1, 1, 0, 0, 1, 1], 6)).toEqual({ layerBegin: 2, layerEnd: 4 });
    expect(pickLayers([1, 1, 1, 1, 0, 0], 1)).toEqual({ layerBegin: 4, layerEnd: 5 });
  });

  test("when covered, replicates the least replicated window", () => {
    expect(pickLayers([2, 2, 1, 1, 2, 2], 2)).toEqual({ layerBegin: 2, layerEnd: 4 });
    expect(pickLayers([1, 1, 1], 3)).toEqual({ layerBegin: 0, layerEnd: 3 });
  });
});
