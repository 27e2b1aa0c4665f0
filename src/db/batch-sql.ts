/**
 * Statements whose text does not depend on how many rows they touch. postgres.js prepares each
 * distinct text (an extra round trip the first time); `IN ($1, …, $n)` or an n-row `VALUES`
 * is a new text for every n. These take the rows as one parameter instead: an array literal,
 * or a JSON array read with `jsonb_populate_recordset` against the table's own row type.
 * Values must be storable text (no NUL, no lone surrogates), as everything we store is.
 */
import { Column, getTableColumns, SQL, sql } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";

/** `column = any($1::type[])` with one array parameter. */
export function anyOf(column: PgColumn, values: readonly string[]): SQL {
  return sql`${column} = any(${arrayLiteral(values)}::${sql.raw(column.getSQLType())}[])`;
}

/** `anyOf` for a statement built once (built-once.ts): the list is the placeholder `name`, given as `arrayLiteral(values)`. */
export function anyOfPlaceholder(column: PgColumn, name: string): SQL {
  return sql`${column} = any(${sql.placeholder(name)}::${sql.raw(column.getSQLType())}[])`;
}

/** A PostgreSQL array literal of quoted elements (`{"a","b"}`). */
export function arrayLiteral(values: readonly string[]): string {
  return `{${values.map((v) => `"${v.replace(/["\\]/g, "\\$&")}"`).join(",")}}`;
}

/**
 * `INSERT INTO table (columns) SELECT columns FROM jsonb_populate_recordset(…)`: rows keyed
 * by the table's property names; only `keys` are written (the rest take their defaults). Append
 * `ON CONFLICT …` as needed.
 */
export function insertRows<T extends PgTable>(
  table: T,
  keys: ReadonlyArray<keyof T["$inferInsert"] & string>,
  rows: ReadonlyArray<Partial<Record<keyof T["$inferInsert"] & string, unknown>>>,
): SQL {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  const names = keys.map((key) => {
    const column = columns[key];
    if (!column) throw new Error(`no column ${key} in the table`);
    return column.name;
  });
  const json = JSON.stringify(rows.map((row) => Object.fromEntries(keys.map((key, i) => [names[i], row[key] ?? null]))));
  const list = sql.join(names.map((name) => sql.identifier(name)), sql`, `);
  return sql`insert into ${table} (${list}) select ${list} from jsonb_populate_recordset(null::${table}, ${json}::jsonb)`;
}

/** `SET column = excluded.column` for each key. */
export function setExcluded<T extends PgTable>(table: T, keys: ReadonlyArray<keyof T["$inferInsert"] & string>): SQL {
  const columns = getTableColumns(table) as Record<string, PgColumn>;
  return sql.join(keys.map((key) => sql`${sql.identifier(columns[key]!.name)} = excluded.${sql.identifier(columns[key]!.name)}`), sql`, `);
}

/** `execute` returns the rows (postgres.js) or `{ rows }` (PGlite). */
export function rowsOf<T>(result: unknown): T[] {
  return Array.isArray(result) ? (result as T[]) : (result as { rows: T[] }).rows;
}

/** One record as a `json_build_array` of its columns, and the decoding of that value back to an object. */
export interface Packing<T> {
  readonly array: SQL;
  /** The record from its array as read (null stays null). */
  decode(list: unknown[] | null): T;
}

/**
 * A whole record as one selected value: `json_build_array` of its columns, mapped back to an
 * object with each column's own decoding. drizzle maps every selected column of every row with
 * several type checks; a 50-row page of five records of ~40 columns spent a tenth of a
 * dashboard request there, and five values per row cost a fraction of it. `nullWhen`: the
 * record is null when that column is (a left join found nothing).
 */
export function packed<T>(columns: Record<string, PgColumn>, nullWhen?: PgColumn): SQL<T> {
  return packedValue(packing<T>(columns, nullWhen));
}

/** A packing as one selected value (`packed`). */
export function packedValue<T>({ array, decode }: Packing<T>): SQL<T> {
  return array.mapWith((raw: unknown) => decode(fromJson<unknown[] | null>(raw))) as SQL<T>;
}

/**
 * Several records as one selected value, in order: `aggregate` gets one record's
 * `json_build_array` and returns the (sub)query that gathers them into one json array (null
 * reads as none). A row and the page of rows under it then come back in one statement.
 */
export function packedList<T>(columns: Record<string, PgColumn>, aggregate: (record: SQL) => SQL): SQL<T[]> {
  const { array, decode } = packing<T>(columns);
  return aggregate(array).mapWith((raw: unknown) => (fromJson<unknown[][] | null>(raw) ?? []).map(decode)) as SQL<T[]>;
}

/**
 * The rows of a whole statement as one selected value (one row, one column, one JSON text to
 * parse): `json_agg` of one `json_build_array` per row of `parts` (packed records, decoded as
 * `packing` does, or plain values, kept as read), in `order`. A 50-row page of five records
 * is then one value for the driver to parse and one for drizzle to map, not 300 of each.
 * Aggregates: select it alone, without `group by`; or `around` puts the aggregate in a
 * statement of its own (a subquery), read as one value of another statement.
 */
export function packedRows<T extends object>(parts: { [K in keyof T]: Packing<T[K]> | SQL<T[K]> }, order: SQL[], around: (rows: SQL) => SQL = (rows) => rows): SQL<T[]> {
  const entries = Object.entries(parts) as Array<[string, Packing<unknown> | SQL]>;
  const keys = entries.map(([key]) => key);
  const decoders = entries.map(([, part]) => (part instanceof SQL ? null : part.decode));
  const values = entries.map(([, part]) => (part instanceof SQL ? part : part.array));
  const rows = around(sql`json_agg(json_build_array(${sql.join(values, sql`, `)}) order by ${sql.join(order, sql`, `)})`);
  return rows.mapWith((raw: unknown) =>
    (fromJson<unknown[][] | null>(raw) ?? []).map((list) => {
      const row: Record<string, unknown> = {};
      for (let i = 0; i < keys.length; i++) row[keys[i]!] = decoders[i] ? decoders[i]!(list[i] as unknown[] | null) : list[i];
      return row;
    }),
  ) as SQL<T[]>;
}

/**
 * One record's `json_build_array` (null when `nullWhen` is), and its decoding. Times travel as
 * milliseconds since the epoch (truncated to the millisecond, as a Date parsed from PostgreSQL's
 * text would be) and become Dates without parsing any text. Text, uuids, booleans and numbers
 * come out of JSON as they are; other columns are mapped by their own decoding.
 */
export function packing<T>(columns: Record<string, PgColumn>, nullWhen?: PgColumn): Packing<T> {
  const entries = Object.entries(columns);
  const values = entries.map(([, column]) => (isDateTimestamp(column) ? sql`round(extract(epoch from date_trunc('milliseconds', ${column})) * 1000)` : sql`${column}`));
  const built = sql`json_build_array(${sql.join(values, sql`, `)})`;
  const array = nullWhen ? sql`case when ${nullWhen} is null then null else ${built} end` : built;
  const keys = entries.map(([key]) => key);
  const maps = entries.map(([, column]) => {
    if (isDateTimestamp(column)) return (v: unknown) => new Date(v as number);
    return column.mapFromDriverValue === Column.prototype.mapFromDriverValue ? null : (v: unknown) => column.mapFromDriverValue(v);
  });
  const decode = (list: unknown[] | null) => {
    if (list === null) return null as T;
    const record: Record<string, unknown> = {};
    for (let i = 0; i < keys.length; i++) {
      const value = list[i];
      const map = maps[i];
      record[keys[i]!] = value === null || value === undefined ? null : map ? map(value) : value;
    }
    return record as T;
  };
  return { array, decode };
}

/** A `timestamp` column read as a Date (drizzle's `mode: "date"`). */
function isDateTimestamp(column: PgColumn): boolean {
  return column.columnType === "PgTimestamp";
}

/** postgres.js hands json already parsed; PGlite as text. */
function fromJson<T>(raw: unknown): T {
  return (typeof raw === "string" ? JSON.parse(raw) : raw) as T;
}
