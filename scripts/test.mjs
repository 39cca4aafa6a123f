// `npm test`: every check the project has, in order, stopping at the first failure:
// format + lint, type checks, the C kernel tests (plain, under ASan/UBSan, and bit for bit across
// compilers, kernel tiers, thread counts and batches: kernels/tests/determinism.sh), the Bun tests
// (agent, shared, reference forward pass, llama.cpp as an oracle), then the vitest projects
// (coordinator inside workerd, and end to end with wrangler dev + Bun agents + the openai client).
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./local-network.mjs";

const bin = (name) => join(ROOT, "node_modules", ".bin", name);
const steps = [
  ["format and lint", bin("biome"), ["check", "."]],
  ["types (scripts, e2e)", bin("tsc"), ["-p", "tsconfig.json"]],
  ["types (coordinator)", bin("tsc"), ["-p", "coordinator/tsconfig.json"]],
  ["types (agent, shared)", bin("tsc"), ["-p", "agent/tsconfig.json"]],
  ["types (ledger benchmark worker)", bin("tsc"), ["-p", "benchmarks/ledger/tsconfig.json"]],
  ["types (web pages)", bin("tsc"), ["-p", "web/tsconfig.json"]],
  ["kernels: C tests", "make", ["-s", "-C", "kernels", "test"]],
  ["kernels: C tests under ASan/UBSan", "make", ["-s", "-C", "kernels", "test-asan"]],
  ["kernels: bit-exact across compilers, tiers, threads, batches", "make", ["-s", "-C", "kernels", "determinism"]],
  [
    "bun tests (agent, shared, reference, oracle, families, benchmark harnesses)",
    bin("bun"),
    ["test", "./agent", "./shared", "./tests/reference", "./tests/oracle", "./tests/families", "./benchmarks"],
  ],
  ["vitest (coordinator in workerd, end to end)", bin("vitest"), ["run"]],
];

const only = process.argv.slice(2);
for (const [name, command, args] of steps) {
  if (only.length > 0 && !only.some((o) => name.includes(o))) continue;
  console.log(`\n▶ ${name}`);
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  if (result.error) {
    console.error(`npm test: ${name}: cannot run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`npm test: ${name} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
  console.log(`✓ ${name} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}
