// Builds the dashboard and the ledger explorer (docs/dashboard.md) into coordinator/public, the
// Worker's static assets: the two pages, the stylesheets, and one browser bundle per page made by
// Bun's bundler from web/src (which imports shared/ — the same verification code the CLI runs).
// Run by `npm install` and by wrangler before `dev`/`deploy` ([build] in wrangler.toml).
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./local-network.mjs";

// Files are overwritten in place, never the directory removed: a running workerd may be serving it.
const out = join(ROOT, "coordinator", "public");
mkdirSync(join(out, "assets"), { recursive: true });
mkdirSync(join(out, "admin"), { recursive: true });

const bun = join(ROOT, "node_modules", ".bin", "bun");
const entries = ["dashboard.ts", "explorer.ts"].map((f) => join(ROOT, "web", "src", f));
const build = spawnSync(bun, ["build", ...entries, "--outdir", join(out, "assets"), "--target", "browser", "--minify"], {
  cwd: ROOT,
  encoding: "utf8",
});
if (build.status !== 0) {
  console.error(`build-web: bundling failed:\n${build.stdout}${build.stderr}`);
  process.exit(1);
}
copyFileSync(join(ROOT, "web", "dashboard.html"), join(out, "dashboard.html"));
copyFileSync(join(ROOT, "web", "ledger.html"), join(out, "admin", "ledger.html"));
copyFileSync(join(ROOT, "web", "style.css"), join(out, "assets", "style.css"));
copyFileSync(join(ROOT, "node_modules", "uplot", "dist", "uPlot.min.css"), join(out, "assets", "uplot.css"));
console.error("aria: web pages built: coordinator/public");
