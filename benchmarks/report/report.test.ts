/**
 * The report harness end to end at tiny shapes (`--quick`): every section, every chart it links,
 * and every figure a positive number. The full report is a benchmark run (benchmarks/README.md).
 */
import { expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..", "..");

interface Row {
  kind: string;
  n?: number;
  tokens_per_s: number;
}
interface Measured {
  rows: Row[];
  peak_rss: number;
  memory: { allocated: number };
}
interface Report {
  shapes: Record<string, Measured>;
  formats: Measured[];
}

test("npm run bench -- report --quick writes report.md with every section and the charts it links", () => {
  const out = mkdtempSync(join(tmpdir(), "aria-report-"));
  try {
    const run = spawnSync("node", [join(ROOT, "benchmarks", "run.mjs"), "report", "--quick", "--out-dir", out], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 240_000,
    });
    expect(run.status, run.stderr).toBe(0);
    const md = readFileSync(join(out, "report.md"), "utf8");
    for (const section of [
      "Tokens per second by model shape",
      "Thread scaling",
      "Parallel streams",
      "Context length",
      "Energy per token",
      "Peak memory per format",
    ])
      expect(md).toContain(`## ${section}`);
    for (const model of ["bitnet_b1_58-large", "BitNet-b1.58-2B-4T", "Llama3-8B-1.58"]) expect(md).toContain(model);
    const charts = [...md.matchAll(/!\[[^\]]*\]\(([^)]+\.svg)\)/g)].map((m) => m[1]!);
    expect(charts.sort()).toEqual(["context.svg", "energy.svg", "memory.svg", "shapes.svg", "streams.svg", "threads.svg"]);
    for (const c of charts) {
      expect(existsSync(join(out, c))).toBe(true);
      const svg = readFileSync(join(out, c), "utf8");
      expect(svg.startsWith("<svg")).toBe(true);
      expect(svg.trim().endsWith("</svg>")).toBe(true);
    }
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8")) as Report;
    const rows = [...Object.values(report.shapes), ...report.formats].flatMap((m) => m.rows);
    expect(rows.length).toBeGreaterThan(20);
    for (const r of rows) expect(r.tokens_per_s).toBeGreaterThan(0);
    for (const f of report.formats) expect(f.peak_rss).toBeGreaterThan(f.memory.allocated);
    const streams = report.shapes["2b4t"]!.rows.filter((r) => r.kind === "streams").map((r) => r.n);
    expect(streams).toEqual([1, 2, 3, 4, 8]);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 300_000);
