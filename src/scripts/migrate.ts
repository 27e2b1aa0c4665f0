/**
 * `npm run db:migrate`: applies drizzle/ migrations to DATABASE_URL, or to the embedded
 * database in EMBEDDED_DATA_DIR when DATABASE_URL is absent (either from the environment or
 * `.env`). Needs no other configuration.
 */
import { openDatabase } from "../db/client.js";
import { migrateDatabase } from "../db/migrate.js";
import { loadEnvFileOrExit } from "../config/env-file.js";

loadEnvFileOrExit();

const url = process.env.DATABASE_URL?.trim() || undefined;
const database = await openDatabase({ url, dataDir: process.env.EMBEDDED_DATA_DIR ?? "./.data" });
try {
  await migrateDatabase(database);
  process.stdout.write(`Migrations applied (${database.kind} database).\n`);
} finally {
  await database.close();
}
