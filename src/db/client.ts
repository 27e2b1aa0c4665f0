/**
 * The database handle the whole API runs on: postgres.js against a real PostgreSQL
 * (`DATABASE_URL`), or embedded PGlite in a data directory. Code above this file sees one
 * drizzle type, `Db`, whatever the driver.
 */
import { sql } from "drizzle-orm";
import type { Logger as DrizzleLogger } from "drizzle-orm/logger";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import * as schema from "./schema.js";
import { openPGlite } from "./pglite.js";
import { postgresListenConnection } from "./listen-connection.js";
import { unboundedScope } from "./unbounded-scope.js";
import { Listener } from "./listener.js";
import { cancelStatement, fetchTypesOnce, guardedTransaction } from "./driver-workarounds.js";
import { holdingLock } from "./advisory-lock.js";
import { SocketWatchdog, usesTls } from "./socket-watchdog.js";
import type { Logger } from "../kit/logger.js";
import { withTimeout } from "../kit/timeout.js";
import { tracedStatement } from "../kit/tracing.js";

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

export interface Database {
  readonly kind: "postgres" | "embedded";
  readonly db: Db;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Runs one raw SQL statement and returns its rows, normalised across drivers. */
  rows<T = Record<string, unknown>>(query: ReturnType<typeof sql>): Promise<T[]>;
  /**
   * Runs `fn` while holding an advisory lock (advisory-lock.ts), so that only one process at a
   * time runs it. Embedded PGlite has a single session, so there `fn` simply runs.
   */
  withAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<T>;
  /**
   * Like withAdvisoryLock, but gives up at once when another process holds the lock:
   * resolves `{ ran: false }` then. For jobs that any one instance may run.
   */
  tryWithAdvisoryLock<T>(key: number, fn: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /**
   * LISTENs on `channel`. `onListen` runs after every (re)LISTEN: notifications sent while
   * the connection was down are lost, so callers catch up from their own cursor there. On
   * PostgreSQL a heartbeat replaces a connection that went silent (listener.ts).
   */
  listen(channel: string, onNotify: (payload: string) => void, onListen: () => void): Promise<{ unlisten(): Promise<void> }>;
  /** Runs `fn` with no time bound on its statements (migrations: DDL on a large table may take minutes). */
  unbounded<T>(fn: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A statement (or transaction) that got no answer within `queryTimeoutMs`: our fault, never the caller's. */
export class DatabaseTimeoutError extends Error {
  override readonly name = "DatabaseTimeoutError";
}

export interface OpenDatabaseOptions {
  /** A postgres:// URL; absent = embedded PGlite. */
  url?: string | undefined;
  /** PGlite data directory; absent = in memory. Ignored with `url`. */
  dataDir?: string | undefined;
  poolMax?: number;
  /** Sees every statement drizzle sends (tests count them). */
  onQuery?: (query: string) => void;
  /** Longest wait for one statement, pool wait included (a transaction: twice that); absent or 0: none. PostgreSQL only. */
  queryTimeoutMs?: number;
  /**
   * PostgreSQL only: the pool's commits do not wait for the WAL to reach the disk
   * (`synchronous_commit = off`); a crash of the database may forget its last moments. For
   * bookkeeping that is safe to redo, never for what the API acknowledges.
   */
  asyncCommit?: boolean;
  /** PostgreSQL only: how often the LISTEN connection proves it still hears (listener.ts; default 2 s). */
  listenHeartbeatMs?: number | undefined;
  /** Where the listener says it replaced a dead LISTEN connection. */
  logger?: Pick<Logger, "warn"> | undefined;
}

export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  const logger: DrizzleLogger | undefined = options.onQuery
    ? { logQuery: (query) => options.onQuery?.(query) }
    : undefined;
  return options.url ? openPostgres(options.url, options, logger) : openEmbedded(options.dataDir, logger);
}

async function openPostgres(url: string, options: OpenDatabaseOptions, logger: DrizzleLogger | undefined): Promise<Database> {
  const { poolMax = 10, queryTimeoutMs = 0, asyncCommit = false } = options;
  const unbounded = unboundedScope();
  // A statement past its bound and its cancel: twice the bound, at least a second. Plain TCP only (socket-watchdog.ts).
  const watchdog = queryTimeoutMs > 0 && !usesTls(url) ? new SocketWatchdog({ deadAfterMs: Math.max(2 * queryTimeoutMs, 1_000), unboundedRunning: unbounded.running }) : null;
  const client = postgres(url, {
    max: poolMax,
    ...(asyncCommit ? { connection: { synchronous_commit: "off" } } : {}),
    ...(watchdog ? ({ socket: watchdog.open } as object) : {}), // not in postgres.js's types
    onnotice: () => {},
    connect_timeout: 10,
    // Reconnect quickly after an outage instead of postgres.js's default backoff of up to 20 s.
    backoff: (attempt) => Math.min(0.1 * 2 ** attempt, 2),
  });
  await fetchTypesOnce(client, 2_000);
  const suspect = () => watchdog?.suspect();
  const bound = queryTimeoutMs > 0 ? { ms: queryTimeoutMs, off: unbounded.active, suspect } : null;
  const db: Db = drizzlePostgres(preparing(client, bound), { schema, logger });
  const warn = options.logger && ((fields: object, message: string) => options.logger?.warn(fields, message));
  const listener = new Listener({ open: postgresListenConnection(url), heartbeatMs: options.listenHeartbeatMs, warn });
  return {
    kind: "postgres",
    db,
    ping: (timeoutMs = 2000) =>
      withTimeout(client`select 1`.then(() => undefined), timeoutMs, () => {
        suspect();
        return new DatabaseTimeoutError(`the database did not answer within ${timeoutMs} ms`);
      }),
    rows: async <T>(query: ReturnType<typeof sql>) => (await db.execute(query)) as unknown as T[],
    // Waiting for the lock may take as long as another instance's migration: no bound.
    withAdvisoryLock: async (key, fn) => {
      const locked = await unbounded.run(() => holdingLock(client, key, true, fn));
      if (!locked.ran) throw new Error("unreachable: a waiting advisory lock always runs");
      return locked.value;
    },
    tryWithAdvisoryLock: (key, fn) => holdingLock(client, key, false, fn),
    listen: (channel, onNotify, onListen) => listener.listen(channel, onNotify, onListen),
    unbounded: unbounded.run,
    close: async () => {
      watchdog?.stop();
      await Promise.all([listener.close(), client.end({ timeout: 5 })]);
    },
  };
}

/**
 * drizzle runs its queries as `unsafe(text, params, { prepare: false })`, and postgres.js
 * sends an unprepared query with parameters in two round trips (describe, then execute).
 * Prepared, a text already seen on the connection takes one: half the round trips and
 * socket writes of every statement. Our statements' texts do not depend on their data
 * (lists are one array parameter, see batch-sql.ts), so each connection prepares a bounded
 * set of statements. The webhook path's transactions plan each run (`planEachRun`). Traced,
 * each statement is a span of the operation that sent it (kit/tracing.ts `tracedStatement`).
 */
function preparing<T extends object>(sql: T, bound: Bound | null, inTransaction = false): T {
  type Fn = (...args: unknown[]) => unknown;
  /** begin(…, fn) and savepoint(…, fn): the transaction handle given to fn prepares too, and sends nothing once its connection died. */
  const wrappingLast = (method: Fn) => (...args: unknown[]) => {
    const fn = args.pop() as Fn;
    return guardedTransaction((callback) => method(...args, callback) as Promise<unknown>, (tx) => fn(preparing(tx, bound, true)));
  };
  return new Proxy(sql, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (typeof value !== "function") return value;
      const method = (value as Fn).bind(target);
      if (property === "unsafe") {
        return (text: string, params?: unknown[], options?: object) => tracedStatement(bounded(method(text, params, { ...options, prepare: true }) as Statement, bound, 1), text);
      }
      if (property === "begin" && !inTransaction) return (...args: unknown[]) => bounded(wrappingLast(method)(...args) as Statement, bound, 2);
      if (property === "begin" || property === "savepoint") return wrappingLast(method);
      return value;
    },
  });
}

/** The statement bound (DATABASE_QUERY_TIMEOUT_MS), off inside `Database.unbounded`. */
interface Bound {
  ms: number;
  off(): boolean;
  /** Called when a statement timed out: its connection may be dead (socket-watchdog.ts). */
  suspect(): void;
}

/** A postgres.js query (or transaction): a promise that starts when awaited, and can be cancelled. */
type Statement = PromiseLike<unknown> & { cancel?: () => unknown };

/**
 * Makes `statement` fail with DatabaseTimeoutError when it has no answer `factor` × the bound
 * after it was awaited (the pool's wait for a connection included) and asks PostgreSQL to
 * cancel it. Only `then` is replaced: drizzle still calls `.values()` and the like on the
 * query itself. A silent network keeps the connection until TCP gives up; the caller does
 * not wait for that. (No library offers this: postgres.js has a connect timeout only.)
 */
function bounded<S extends Statement>(statement: S, bound: Bound | null, factor: number): S {
  if (!bound || bound.off()) return statement;
  const ms = bound.ms * factor;
  const start = statement.then.bind(statement);
  let answer: Promise<unknown> | undefined;
  const then = (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) => {
    answer ??= withTimeout(new Promise((resolve, reject) => start(resolve, reject)), ms, () => {
      cancelStatement(statement);
      bound.suspect();
      return new DatabaseTimeoutError(`the database did not answer within ${ms} ms`);
    });
    return answer.then(onFulfilled, onRejected);
  };
  return Object.assign(statement, { then });
}

async function openEmbedded(dataDir: string | undefined, logger: DrizzleLogger | undefined): Promise<Database> {
  const client = await openPGlite(dataDir);
  const db: Db = drizzlePglite({ client, schema, logger });
  return {
    kind: "embedded",
    db,
    ping: (timeoutMs = 2000) => withTimeout(client.query("select 1").then(() => undefined), timeoutMs),
    rows: async <T>(query: ReturnType<typeof sql>) => {
      const result = (await db.execute(query)) as unknown as { rows: T[] };
      return result.rows;
    },
    withAdvisoryLock: (_key, fn) => fn(),
    tryWithAdvisoryLock: async (_key, fn) => ({ ran: true, value: await fn() }),
    listen: async (channel, onNotify, onListen) => {
      const unlisten = await client.listen(channel, onNotify);
      onListen();
      return { unlisten };
    },
    unbounded: (fn) => fn(),
    close: async () => {
      if (!client.closed) await client.close();
    },
  };
}


/**
 * Makes the current transaction plan every statement for its parameters and the tables' size
 * now. Prepared statements (see `preparing`) settle on one generic plan after five runs: made
 * on the empty tables of a new database, or on statistics no ANALYZE refreshed (autovacuum
 * off), that plan keeps scanning whole tables once they have grown, and every webhook batch
 * read all the traffic before it (the inbox's dead versions included). Only for the webhook
 * path (repos.ts `unitOfWork`'s option): planning each dashboard query instead nearly doubled
 * PostgreSQL's CPU per request, and its tables are the clinic's, analysed as they grow.
 *
 * Sent, not awaited: the transaction's next statements go in the same round trip, behind it.
 */
export function planEachRun(tx: Db): Promise<unknown> {
  const sent = tx.execute(sql`set local plan_cache_mode = force_custom_plan`);
  sent.catch(() => undefined); // awaited by the caller
  return sent;
}
