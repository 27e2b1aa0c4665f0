import { defineConfig } from "drizzle-kit";

// Paths resolve against the working directory: run drizzle-kit from the repo root.
export default defineConfig({
  dialect: "postgresql",
  schema: "./src/db/schema.ts",
  out: "./drizzle",
  dbCredentials: { url: process.env.DATABASE_URL ?? "postgres://127.0.0.1:5432/postgres" },
});
