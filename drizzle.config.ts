import { defineConfig } from "drizzle-kit";

export default defineConfig({
  dialect: "sqlite",
  schema: "./coordinator/src/db/schema.ts",
  out: "./coordinator/migrations",
});
