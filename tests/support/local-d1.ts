/** SQL on a local coordinator's D1 (the one `wrangler dev --persist-to <dir>` uses), as an operator would run it. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../../scripts/local-network.mjs";

export function localD1(persistDir: string, sql: string): Record<string, unknown>[] {
  const result = spawnSync(
    join(ROOT, "node_modules", ".bin", "wrangler"),
    ["d1", "execute", "aria", "--local", "--persist-to", persistDir, "--json", "--command", sql],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" } },
  );
  if (result.status !== 0) throw new Error(`wrangler d1 execute failed: ${result.stderr}`);
  return JSON.parse(result.stdout)[0].results;
}
