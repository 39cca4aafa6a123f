/**
 * ARIA_CPU caps the SIMD features the library uses (docs/kernels-abi.md, "Forcing a tier"), so a
 * machine with AVX-512 can run and measure the tiers most PCs have; every cap computes the very
 * same logits.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureBuiltinModel } from "../model/builtin.ts";

/** ARIA_CPU_* bits (kernels/include/aria.h). */
const AVX2 = 1 | 2 | 4;
const AVXVNNI = 16;

let dir: string;
let path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "aria-cpu-cap-"));
  path = await ensureBuiltinModel(dir);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function probe(cap: string | undefined): { features: number; digest: string } {
  const env = { ...process.env };
  if (cap === undefined) delete env.ARIA_CPU;
  else env.ARIA_CPU = cap;
  const r = spawnSync(process.execPath, [join(import.meta.dir, "cpu-cap-probe.ts"), path], { env, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`probe (ARIA_CPU=${cap}) failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim()) as { features: number; digest: string };
}

test("each cap leaves only its features, never adds one; the logits are bit-identical", () => {
  const native = probe(undefined);
  const caps = { avx2: AVX2, avxvnni: AVX2 | AVXVNNI, scalar: 0, avx512: 0xffffffff, nonsense: 0xffffffff };
  for (const [cap, mask] of Object.entries(caps)) {
    const p = probe(cap);
    expect({ cap, features: p.features }).toEqual({ cap, features: (native.features & mask) >>> 0 });
    expect({ cap, digest: p.digest }).toEqual({ cap, digest: native.digest });
  }
});
