import { describe, expect, test } from "bun:test";
import { barChart, lineChart } from "./charts.mjs";

/** The height of every bar (legend swatches last), in document order. */
function bars(svg: string): number[] {
  return [...svg.matchAll(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="([\d.]+)" fill="#(?!ffffff)/g)].map((m) => Number(m[1]));
}

describe("report charts", () => {
  test("bars are proportional to their values on an axis from zero, one per value, null leaves a gap", () => {
    const svg = barChart({
      title: "t",
      yLabel: "tok/s",
      groups: ["a", "b", "c"],
      series: [
        { name: "one", values: [10, 20, null] },
        { name: "two", values: [5, 40, 30] },
      ],
    });
    const h = bars(svg);
    // legend swatches are 12 px squares after the bars
    const data = h.slice(0, 5);
    expect(data).toHaveLength(5);
    // group by group: a (one, two), b (one, two), c (two only)
    const [a1, a2, b1, b2, c2] = data as [number, number, number, number, number];
    expect(b1 / a1).toBeCloseTo(2, 2);
    expect(a2 / a1).toBeCloseTo(0.5, 2);
    expect(b2 / a1).toBeCloseTo(4, 2);
    expect(c2 / a1).toBeCloseTo(3, 2);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain(">one<");
    expect(svg).toContain(">two<");
  });

  test("text is escaped, and a line chart has one point per value", () => {
    const svg = lineChart({
      title: "a < b & c",
      yLabel: "y",
      xLabel: "x",
      xs: [32, 64, 128],
      series: [{ name: "s", values: [3, 2, 1] }],
    });
    expect(svg).toContain("a &lt; b &amp; c");
    expect(svg).not.toContain("a < b");
    const points = svg.match(/points="([^"]+)"/)?.[1]?.split(" ") ?? [];
    expect(points).toHaveLength(3);
    const ys = points.map((p: string) => Number(p.split(",")[1]));
    expect(ys[0]!).toBeLessThan(ys[1]!); // higher value, higher on the page (smaller y)
    expect(ys[1]!).toBeLessThan(ys[2]!);
  });
});
