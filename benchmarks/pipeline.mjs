// The pipeline benchmark: tok/s and per-token latency for 1, 2 and 3 stages (built-in and a
// mid-size model), the latency each hop adds, aggregate tok/s with 1, 4 and 8 clients, and the
// failover gap, all on loopback with wrangler dev and real agents. See benchmarks/README.md.
//
//   npm run bench -- pipeline [--out FILE] [--tokens N]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export const usage = `usage: npm run bench -- pipeline [options]
  --out FILE     write the JSON results there (the table is printed either way)
  --tokens N     tokens per timed completion (default 64)`;

export async function run(args) {
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "bun"), [join(ROOT, "benchmarks", "pipeline", "pipeline-bench.ts"), ...args], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (r.status !== 0) throw Object.assign(new Error(`the pipeline benchmark failed (exit ${r.status ?? r.signal})`), { usage: true });
}
