/** A comparable description of tables: columns, constraints and indexes, from the catalog. */
import { sql } from "drizzle-orm";
import type { Database } from "../../src/db/client.js";

export const LEGACY_TABLES = ["users", "doctors", "patients", "appointments", "video_consultations", "prescriptions"];

export interface CatalogSnapshot {
  columns: unknown[];
  constraints: unknown[];
  indexes: unknown[];
}

export async function catalogSnapshot(database: Database, tables: readonly string[]): Promise<CatalogSnapshot> {
  const list = sql.join(
    tables.map((t) => sql`${t}`),
    sql`, `,
  );
  const columns = await database.rows(sql`
    select table_name, column_name, ordinal_position, data_type, udt_name, is_nullable, column_default,
           character_maximum_length, numeric_precision, numeric_scale
    from information_schema.columns
    where table_schema = 'public' and table_name in (${list})
    order by table_name, ordinal_position`);
  const constraints = await database.rows(sql`
    select c.relname as table_name, k.conname, k.contype, pg_get_constraintdef(k.oid) as definition
    from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relname in (${list})
    order by c.relname, k.conname`);
  const indexes = await database.rows(sql`
    select tablename, indexname, indexdef from pg_indexes
    where schemaname = 'public' and tablename in (${list})
    order by tablename, indexname`);
  return { columns, constraints, indexes };
}
