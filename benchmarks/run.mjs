// `npm run bench -- <name> [options]`: runs one named benchmark. Each benchmark is one file
// (benchmarks/<name>.mjs) exporting `run(args)` and `usage`; it is imported only when chosen.
//
//   npm run bench -- kernels --out results.json
//   npm run bench -- pipeline --out results.json
//   npm run bench -- ledger --out results.json
//   npm run bench -- report                      (benchmarks/results/<machine>/report.md)
const BENCHMARKS = {
  kernels: () => import("./kernels.mjs"),
  pipeline: () => import("./pipeline.mjs"),
  ledger: () => import("./ledger.mjs"),
  memory: () => import("./memory.mjs"),
  report: () => import("./report.mjs"),
};

const [name, ...args] = process.argv.slice(2);
const load = BENCHMARKS[name];
if (!load) {
  console.error(`usage: npm run bench -- <${Object.keys(BENCHMARKS).join("|")}> [options]`);
  process.exit(name === undefined || name === "--help" ? 0 : 2);
}
const bench = await load();
try {
  await bench.run(args);
} catch (e) {
  console.error(`bench ${name}: ${e instanceof Error ? e.message : String(e)}`);
  if (e?.usage) console.error(bench.usage);
  process.exit(1);
}
