/**
 * Timestamps at the precision PostgreSQL keeps them. drizzle maps timestamptz to a JS Date,
 * which drops the microseconds: a cursor built from that Date points before its own row, and
 * `> cursor` finds the row again (a client pages forever). Cursors take their time from
 * `exactTime` instead and compare with it as `$n::timestamptz`, which reads it back unchanged.
 */
import { type SQL, sql } from "drizzle-orm";
import type { PgColumn } from "drizzle-orm/pg-core";

/**
 * The column as UTC ISO-8601 text with six fraction digits (`2026-11-24T09:30:00.123456Z`),
 * the same on postgres.js and PGlite whatever the session's TimeZone or DateStyle.
 */
export function exactTime(column: PgColumn): SQL<string> {
  return sql<string>`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
