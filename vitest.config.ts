import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";
import { makeLedgerKey } from "./scripts/ledger-key.mjs";

/** The log key of the coordinator under test (its vkey is read back from /ledger/vkey). */
const ledgerKey = makeLedgerKey("aria.test/ledger");
/** Swarm tests with Proof of Useful Work checks on run in a workerd of their own. */
const REEXECUTION_TESTS = "coordinator/src/swarm/verification/re-execution.test.ts";

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
                ARIA_ADMIN_TOKEN: "test-admin-token",
                // Scripted agents here do not answer re-executions (those are tested with them on).
                ARIA_VERIFICATION: "off",
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
          exclude: [REEXECUTION_TESTS],
          setupFiles: ["./coordinator/test/apply-migrations.ts"],
        },
      },
      {
        // Proof of Useful Work checks switched on: scripts elsewhere do not answer re-executions.
        plugins: [
          cloudflareTest(async () => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                ARIA_API_KEYS: "test-key-1",
                ARIA_ADMIN_TOKEN: "test-admin-token",
                ARIA_LEDGER_KEY: ledgerKey.skey,
                ARIA_VERIFICATION: "on",
                TEST_MIGRATIONS: await readD1Migrations("./coordinator/migrations"),
              },
              d1Databases: { TEST_LEDGER_DB: "test-ledger" },
            },
          })),
        ],
        test: {
          name: "coordinator-verification",
          include: [REEXECUTION_TESTS],
          // Checks run in the background of requests; on a loaded 2-core machine they take seconds.
          testTimeout: 60_000,
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
