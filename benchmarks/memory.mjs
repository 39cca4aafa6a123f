// The memory benchmark: RSS of agents holding 1/1, 1/2, 1/3 and 1/4 of the 2B-4T- and 8B-shaped
// models, above an idle agent process, against the bytes they hold. See benchmarks/README.md.
//
//   npm run bench -- memory [--out FILE] [--models 2b4t,8b] [--splits 1,2,3,4]
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

export const usage = `usage: npm run bench -- memory [options]
  --out FILE          write the JSON results there (the table is printed either way)
  --models LIST       2b4t, 8b or both (default 2b4t,8b)
  --splits LIST       how many agents share the layers (default 1,2,3,4)`;

export async function run(args) {
  const r = spawnSync(join(ROOT, "node_modules", ".bin", "bun"), [join(ROOT, "benchmarks", "memory", "memory-bench.ts"), ...args], {
    cwd: ROOT,
    stdio: "inherit",
  });
  if (r.status !== 0)
    throw Object.assign(new Error(`the memory benchmark failed or missed its target (exit ${r.status ?? r.signal})`), { usage: false });
}
