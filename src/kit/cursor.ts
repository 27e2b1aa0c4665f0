/**
 * The one codec of every connection's opaque cursors: base64url of `tag:part|part…`. Each
 * connection declares its key beside itself (which parts, how each is checked); the tag
 * versions the key, so a connection that changes its key can still read the cursors it
 * issued before (a client paging across a deploy).
 *
 * A key must hold its sort key at full precision: a cursor that rounds the key it came from
 * repeats or skips rows (see `db/exact-time.ts` for timestamps).
 */
import { badInput } from "./errors.js";

export interface CursorCodec<K> {
  encode(key: K): string;
  /** Throws BAD_USER_INPUT naming `field` on anything this API did not issue. */
  decode(value: string, field?: string): K;
}

/** The key, or null when these parts are not a key this API issued. */
export type CursorReader<K> = (parts: readonly string[]) => K | null;

export interface CursorKey<K> {
  /** Carried by every cursor encoded now; no `:` or `|` in it. */
  tag: string;
  /** The parts to encode; none may contain `|`. */
  write(key: K): ReadonlyArray<string | number>;
  read: CursorReader<K>;
  /** Tags issued by earlier versions, each read into today's key. */
  older?: Readonly<Record<string, CursorReader<K>>>;
  /** What the BAD_USER_INPUT message calls it ("cursor" unless told). */
  noun?: string;
}

export function cursorCodec<K>(key: CursorKey<K>): CursorCodec<K> {
  const readers = new Map<string, CursorReader<K>>([[key.tag, key.read], ...Object.entries(key.older ?? {})]);
  const noun = key.noun ?? "cursor";
  return {
    encode: (value) => Buffer.from(`${key.tag}:${key.write(value).join("|")}`, "utf8").toString("base64url"),
    decode: (value, field = "after") => {
      const text = Buffer.from(value, "base64url").toString("utf8");
      const colon = text.indexOf(":");
      const read = colon > 0 ? readers.get(text.slice(0, colon)) : undefined;
      const decoded = read?.(text.slice(colon + 1).split("|")) ?? null;
      if (decoded === null) throw badInput(`${field} is not a valid ${noun}`, field);
      return decoded;
    },
  };
}

/** A part that is a non-negative safe integer (a bigserial id), else null. */
export function readSerial(part: string | undefined): number | null {
  if (part === undefined || !/^\d{1,16}$/.test(part)) return null;
  const n = Number(part);
  return Number.isSafeInteger(n) ? n : null;
}

/**
 * A timestamptz to the microsecond, as PostgreSQL stores it: UTC ISO-8601 with six fraction
 * digits (`2026-11-24T09:30:00.123456Z`), what `db/exact-time.ts` selects and what a
 * `::timestamptz` cast reads back unchanged. A JS Date keeps only milliseconds.
 */
export type ExactTime = string;

const EXACT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

/**
 * The part as an ExactTime, else null: a real date in the years 1..9999, so PostgreSQL reads
 * it (any time it stores there, as a cursor may carry a legacy row's time).
 */
export function readExactTime(part: string | undefined): ExactTime | null {
  if (part === undefined || !EXACT_TIME.test(part) || part.startsWith("0000")) return null;
  // Date normalises 02-30 to 03-02: only a date it prints back the same way is real.
  return new Date(part).toISOString().slice(0, 23) === part.slice(0, 23) ? part : null;
}

/**
 * A millisecond time (an old cursor's) as the first or the last microsecond of its
 * millisecond. Dates are truncated from the stored time, so the stored time lies in between:
 * resuming from the bound on the near side of it repeats rows of that millisecond at worst,
 * and never skips one.
 */
export function exactTimeOfMillis(date: Date, bound: "first" | "last"): ExactTime {
  return date.toISOString().replace(/Z$/, bound === "first" ? "000Z" : "999Z");
}
