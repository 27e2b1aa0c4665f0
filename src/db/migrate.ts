/**
 * Applies drizzle/ migrations. Safe on an empty database and on the clinic's existing one
 * (the baseline migration is idempotent), and safe when several instances start at once:
 * on PostgreSQL the run is serialised with an advisory lock, because drizzle's migrator
 * takes none.
 */
import { join } from "node:path";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import { PROJECT_ROOT } from "../kit/paths.js";
import type { Database } from "./client.js";

export const MIGRATIONS_FOLDER = join(PROJECT_ROOT, "drizzle");

/** Arbitrary constant shared by every instance of this API: "consultation-api migrate". */
const MIGRATION_LOCK_KEY = 7_301_942_118;

export async function migrateDatabase(database: Database): Promise<void> {
  const config = { migrationsFolder: MIGRATIONS_FOLDER };
  // Unbounded: a migration's DDL on the clinic's large tables may take longer than any request.
  await database.unbounded(() =>
    database.withAdvisoryLock(MIGRATION_LOCK_KEY, () =>
      database.kind === "embedded" ? migratePglite(database.db as never, config) : migratePostgres(database.db as never, config),
    ),
  );
}
