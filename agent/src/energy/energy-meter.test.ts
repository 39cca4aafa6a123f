import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_WATTS_PER_CORE, EnergyMeter } from "./energy-meter.ts";

/** A powercap tree and /proc/stat of our own, so the RAPL path runs where the machine has none. */
function fakeSystem(energyUj: number, rangeUj: number) {
  const root = mkdtempSync(join(tmpdir(), "aria-rapl-"));
  mkdirSync(join(root, "intel-rapl:0"));
  mkdirSync(join(root, "intel-rapl:0:0")); // a subzone: part of the package, never added again
  writeFileSync(join(root, "intel-rapl:0", "max_energy_range_uj"), `${rangeUj}\n`);
  writeFileSync(join(root, "intel-rapl:0:0", "max_energy_range_uj"), `${rangeUj}\n`);
  writeFileSync(join(root, "intel-rapl:0:0", "energy_uj"), "5\n");
  const stat = join(root, "stat");
  const setEnergy = (uj: number) => writeFileSync(join(root, "intel-rapl:0", "energy_uj"), `${uj}\n`);
  const setBusyTicks = (ticks: number) => writeFileSync(stat, `cpu  ${ticks} 0 0 999999 0 0 0 0 0 0\ncpu0 0 0 0 0 0 0 0 0 0 0\n`);
  setEnergy(energyUj);
  setBusyTicks(1000);
  return { root, stat, setEnergy, setBusyTicks };
}

/** Burn about `ms` of this process's CPU time. */
function spin(ms: number): number {
  const start = process.cpuUsage();
  let x = 0;
  while ((process.cpuUsage(start).user + process.cpuUsage(start).system) / 1000 < ms) x += Math.sqrt(x + 1);
  return x;
}

test("RAPL: the package energy of the call, times this process's share of the busy CPU time", () => {
  const sys = fakeSystem(1_000_000, 2 ** 32);
  const meter = EnergyMeter.detect({ powercapRoot: sys.root, procStat: sys.stat });
  expect(meter.method).toBe("rapl");
  const { mj } = meter.measure(() => {
    spin(30);
    sys.setEnergy(1_000_000 + 3_000_000); // 3 J used by the package meanwhile
    sys.setBusyTicks(1000 + 300); // 3 s of busy time on the machine (all CPUs)
  });
  // Our ~30 ms of CPU out of 3 s busy: ~1 % of 3 J ≈ 30 mJ.
  expect(mj).toBeGreaterThan(20);
  expect(mj).toBeLessThan(60);
});

test("RAPL: a counter that wraps at max_energy_range_uj is read across the wrap", () => {
  const range = 262_143_328_850;
  const sys = fakeSystem(range - 500_000, range);
  const meter = EnergyMeter.detect({ powercapRoot: sys.root, procStat: sys.stat });
  const { mj } = meter.measure(() => {
    sys.setEnergy(1_500_000); // 0.5 J to the top, then 1.5 J after the wrap
    sys.setBusyTicks(1000); // no busy tick seen: the whole 2 J (share 1 until a share is known)
  });
  expect(mj).toBeCloseTo(2_000, 6);
});

test("no readable RAPL: CPU time × the per-core power, labelled an estimate", () => {
  const meter = EnergyMeter.detect({ powercapRoot: join(tmpdir(), "no-such-powercap") });
  expect(meter.method).toBe("estimate");
  const { mj } = meter.measure(() => spin(40));
  // ~40 ms of CPU at 10 W ≈ 400 mJ.
  expect(DEFAULT_WATTS_PER_CORE).toBe(10);
  expect(mj).toBeGreaterThan(350);
  expect(mj).toBeLessThan(800);
});
