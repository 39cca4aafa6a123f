import { describe, expect, test } from "bun:test";
import { StopMatcher } from "./stop-matcher.ts";

describe("StopMatcher", () => {
  test("holds back a possible stop prefix and cuts at the stop", () => {
    const m = new StopMatcher(["END"]);
    expect(m.push("abcE")).toEqual({ emit: "abc", stopped: false });
    expect(m.push("N")).toEqual({ emit: "", stopped: false });
    expect(m.push("Dxyz")).toEqual({ emit: "", stopped: true });
  });

  test("releases held text when the prefix does not continue", () => {
    const m = new StopMatcher(["END"]);
    expect(m.push("xE")).toEqual({ emit: "x", stopped: false });
    expect(m.push("x")).toEqual({ emit: "Ex", stopped: false });
    expect(m.flush()).toBe("");
  });

  test("earliest of several stops wins; no stops passes everything", () => {
    expect(new StopMatcher(["b", "a"]).push("xxabyy")).toEqual({ emit: "xx", stopped: true });
    const none = new StopMatcher([]);
    expect(none.push("anything")).toEqual({ emit: "anything", stopped: false });
  });
});
