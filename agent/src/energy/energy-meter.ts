/**
 * Proof of Sobriety's measurement (docs/energy.md): the energy this agent's work used, per
 * forward call. Where the CPU package's RAPL counters are readable
 * (`<powercap>/intel-rapl:N/energy_uj`), the package energy of the interval is attributed to this
 * process by its share of the machine's busy CPU time; otherwise it is estimated as the process's
 * CPU time × a per-core power. Each figure carries its method; stages sign it in their receipts.
 *
 * RAPL counters wrap at `max_energy_range_uj`: a reading below the last one means one wrap (a
 * counter cannot wrap twice within one forward call, which lasts milliseconds).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export type EnergyMethod = "rapl" | "estimate";

/** Per-core power for the estimate when RAPL is unreadable (W): a mid-range desktop core under load. */
export const DEFAULT_WATTS_PER_CORE = 10;

interface Package {
  energyPath: string;
  range: number;
  last: number;
}

interface Sample {
  packagesUj: number;
  processUs: number;
  busyUs: number;
}

export class EnergyMeter {
  private constructor(
    readonly method: EnergyMethod,
    private readonly packages: Package[],
    private readonly wattsPerCore: number,
    private readonly procStat: string,
  ) {}

  /**
   * RAPL when every CPU package's counter is readable under `powercapRoot`, else the estimate.
   * `procStat` is the system-wide CPU time source (for the process's share).
   */
  static detect(opts: { powercapRoot?: string; procStat?: string; wattsPerCore?: number } = {}): EnergyMeter {
    const root = opts.powercapRoot ?? "/sys/class/powercap";
    const procStat = opts.procStat ?? "/proc/stat";
    const watts = opts.wattsPerCore ?? DEFAULT_WATTS_PER_CORE;
    const packages: Package[] = [];
    try {
      for (const name of readdirSync(root)) {
        // Package zones only (intel-rapl:0, intel-rapl:1); subzones (intel-rapl:0:0) are parts of them.
        if (!/^intel-rapl:\d+$/.test(name)) continue;
        const energyPath = join(root, name, "energy_uj");
        const range = Number(readFileSync(join(root, name, "max_energy_range_uj"), "utf8").trim());
        const last = Number(readFileSync(energyPath, "utf8").trim());
        if (!Number.isFinite(range) || range <= 0 || !Number.isFinite(last)) throw new Error("unreadable counter");
        packages.push({ energyPath, range, last });
      }
    } catch {
      packages.length = 0;
    }
    const rapl = packages.length > 0 && existsSync(procStat);
    return new EnergyMeter(rapl ? "rapl" : "estimate", rapl ? packages : [], watts, procStat);
  }

  /** Watts per core behind an estimate (for the record). */
  get estimateWattsPerCore(): number {
    return this.wattsPerCore;
  }

  /** Run `work` and return its result with this process's CPU time (ms) and the energy attributed to it (mJ). */
  measure<T>(work: () => T): { result: T; mj: number; cpuMs: number } {
    if (this.method === "estimate") {
      const before = process.cpuUsage();
      const result = work();
      const cpu = process.cpuUsage(before);
      const cpuMs = (cpu.user + cpu.system) / 1000;
      return { result, mj: (cpuMs / 1000) * this.wattsPerCore * 1000, cpuMs };
    }
    const before = this.sample();
    const result = work();
    const after = this.sample();
    const busy = after.busyUs - before.busyUs;
    const mine = after.processUs - before.processUs;
    // The process's share of the package energy. The system's busy time moves in 10 ms ticks, so a
    // short call may see none: it keeps the share last seen (all of it before any was seen).
    if (busy > 0) this.share = Math.min(1, mine / busy);
    const share = this.share;
    return { result, mj: ((after.packagesUj - before.packagesUj) * share) / 1000, cpuMs: mine / 1000 };
  }

  private sample(): Sample {
    let packagesUj = 0;
    for (const p of this.packages) {
      const now = Number(readFileSync(p.energyPath, "utf8").trim());
      packagesUj += now >= p.last ? now - p.last : now + p.range - p.last;
      p.last = now;
    }
    const cpu = process.cpuUsage();
    this.accumulated += packagesUj;
    return { packagesUj: this.accumulated, processUs: cpu.user + cpu.system, busyUs: busyMicros(this.procStat) };
  }

  private accumulated = 0;
  private share = 1;
}

/** Busy CPU time of the whole machine so far (all CPUs, user+nice+system+irq+softirq+steal), µs. */
function busyMicros(procStat: string): number {
  const line = readFileSync(procStat, "utf8").split("\n", 1)[0] ?? "";
  const f = line.trim().split(/\s+/).slice(1).map(Number);
  const ticks = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  // USER_HZ is 100 on every Linux this runs on.
  return ticks * 10_000;
}
