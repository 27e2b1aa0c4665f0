/**
 * One fresh database per test file: a new PostgreSQL database on the server named by
 * TEST_DATABASE_URL / DATABASE_URL when set (dropped afterwards), else an in-memory PGlite.
 * So `npm test` passes with and without a reachable PostgreSQL.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import postgres from "postgres";
import { openDatabase, type Database } from "../../src/db/client.js";
import { migrateDatabase } from "../../src/db/migrate.js";

export const LEGACY_DDL = readFileSync(new URL("../fixtures/legacy-schema.sql", import.meta.url), "utf8");

export interface TestDatabase {
  database: Database;
  kind: "postgres" | "embedded";
  /** postgres:// URL of the test database (PostgreSQL only). */
  url: string | undefined;
  /** Runs raw SQL (several statements allowed) outside drizzle. */
  exec(sqlText: string): Promise<void>;
  close(): Promise<void>;
}

/** Appended to the name of a test that runs on PostgreSQL only, so a skip says why. */
export const NEEDS_POSTGRES = process.env.TEST_DATABASE_URL?.trim() || process.env.DATABASE_URL?.trim() ? "" : " (skipped: needs PostgreSQL, set TEST_DATABASE_URL)";

export function serverUrl(): string | undefined {
  return process.env.TEST_DATABASE_URL?.trim() || process.env.DATABASE_URL?.trim() || undefined;
}

export interface CreateTestDatabaseOptions {
  /** Load the clinic's legacy DDL first (as production has it). */
  legacy?: boolean;
  /** Apply the API's migrations (default true). */
  migrate?: boolean;
  /** Force a driver regardless of the environment. */
  driver?: "postgres" | "embedded";
  /** Another PostgreSQL server to create the database on (fault tests). */
  serverUrl?: string;
  onQuery?: (query: string) => void;
}

export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const base = options.serverUrl ?? serverUrl();
  const driver = options.driver ?? (base ? "postgres" : "embedded");
  const test = driver === "postgres" ? await createPostgresDatabase(base, options) : await createEmbedded(options);
  if (options.legacy) await test.exec(LEGACY_DDL);
  if (options.migrate ?? true) await migrateDatabase(test.database);
  return test;
}

async function createPostgresDatabase(base: string | undefined, options: CreateTestDatabaseOptions): Promise<TestDatabase> {
  if (!base) throw new Error("the postgres driver needs TEST_DATABASE_URL or DATABASE_URL");
  const name = `t_${Date.now().toString(36)}_${randomBytes(4).toString("hex")}`;
  const admin = postgres(base, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${name}`);
  const url = withDatabase(base, name);
  const raw = postgres(url, { max: 1, onnotice: () => {} });
  const database = await openDatabase({ url, poolMax: 5, onQuery: options.onQuery });
  return {
    database,
    kind: "postgres",
    url,
    exec: async (text) => {
      await raw.unsafe(text);
    },
    close: async () => {
      await database.close();
      await raw.end();
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

async function createEmbedded(options: CreateTestDatabaseOptions): Promise<TestDatabase> {
  const database = await openDatabase({ onQuery: options.onQuery });
  return {
    database,
    kind: "embedded",
    url: undefined,
    exec: async (text) => {
      await (database.db as unknown as { $client: { exec(s: string): Promise<unknown> } }).$client.exec(text);
    },
    close: () => database.close(),
  };
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}
