import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { makeLedgerKey } from "./scripts/ledger-key.mjs";

/** The log key of the coordinator under test (its vkey is read back from /ledger/vkey). */
const ledgerKey = makeLedgerKey("aria.test/ledger");

export default defineConfig({
  test: {
    projects: [
      {
        // Coordinator unit and integration tests, inside workerd with local D1 and the Swarm DO.
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ARIA_API_KEYS: "test-key-1,test-key-2",
                ARIA_LEDGER_KEY: ledgerKey.skey,
                TEST_MIGRATIONS: await readD1Migrations("./coordinator/migrations"),
              },
              // A database of its own for the sequencer's tests, apart from the Swarm's.
              d1Databases: { TEST_LEDGER_DB: "test-ledger" },
            },
          })),
        ],
        test: {
          name: "coordinator",
          include: ["coordinator/**/*.test.ts"],
          setupFiles: ["./coordinator/test/apply-migrations.ts"],
        },
      },
      {
        // End to end: wrangler dev (workerd) + real Bun agent processes + the openai client.
        test: {
          name: "e2e",
          include: ["tests/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
