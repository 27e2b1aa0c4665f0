/**
 * Where postgres.js (3.4.9) ends the process when a connection dies under it, and what the
 * pool does instead. A storm of connection resets between two instances and PostgreSQL
 * showed all three (test/faults/reset-storm.test.ts); test/faults/dying-connections.test.ts
 * plays each on its own.
 *
 * A transaction whose connection died must send nothing more on it. postgres.js still runs
 * the transaction's next statement, and then its ROLLBACK or COMMIT, on that connection: with
 * its socket gone, the write throws from a timer (`socket.write` on null, porsager/postgres
 * #1154 and #1208), where no caller can catch it, and the process dies; reconnected meanwhile
 * for other work, the statement would run outside the transaction. `begin` already rejects
 * when the connection closes (its own race on the close). So once a statement of the
 * transaction failed for its connection, or the transaction was given up, its later
 * statements fail without being sent, and its callback never settles: postgres.js then sends
 * neither ROLLBACK nor COMMIT. Only what this transaction's own statements or its `begin` said
 * counts: an error from elsewhere never leaves a live transaction open.
 */
import type postgres from "postgres";
import { withTimeout } from "../kit/timeout.js";

/** postgres.js's and the socket's codes for a connection that is gone. */
const GONE = new Set(["CONNECTION_CLOSED", "CONNECTION_DESTROYED", "CONNECTION_ENDED", "ECONNRESET", "EPIPE"]);

type Fn = (...args: unknown[]) => unknown;
type Statement = PromiseLike<unknown>;

/**
 * Runs `body` as postgres.js's `begin` (or `savepoint`) callback with a guarded handle:
 * `open(callback)` starts the transaction, `body(tx)` is the caller's work.
 */
export function guardedTransaction(open: (callback: (tx: object) => Promise<unknown>) => Promise<unknown>, body: (tx: object) => unknown): Promise<unknown> {
  const state = { gone: false };
  const started = open(async (tx) => {
    let result: unknown;
    try {
      result = await body(watching(tx, state));
    } catch (error) {
      if (state.gone) return never();
      throw error;
    }
    return state.gone ? never() : result;
  });
  // Rejected: the transaction is over (its connection closed, or it rolled back); nothing more goes out.
  started.catch(() => (state.gone = true));
  return started;
}

/** `tx` whose statements mark the transaction gone when their connection fails, and are not sent once it is. */
function watching(tx: object, state: { gone: boolean }): object {
  return new Proxy(tx, {
    get(target, property) {
      const value = Reflect.get(target, property) as unknown;
      if (property !== "unsafe" || typeof value !== "function") return value;
      return (...args: unknown[]) => (state.gone ? deadStatement() : watched((value as Fn).apply(target, args) as Statement, state));
    },
  });
}

/** Only `then` is replaced: postgres.js starts a query when it is awaited, after `.values()` and the like. */
function watched<S extends Statement>(statement: S, state: { gone: boolean }): S {
  const start = statement.then.bind(statement);
  const then = (onFulfilled?: (value: unknown) => unknown, onRejected?: (reason: unknown) => unknown) =>
    start(onFulfilled, (error: unknown) => {
      if (connectionGone(error)) state.gone = true;
      if (onRejected) return onRejected(error);
      throw error;
    });
  return Object.assign(statement, { then });
}

/** A statement that fails as its connection did, without being sent. */
function deadStatement(): Statement {
  const error = Object.assign(new Error("the transaction's connection closed"), { code: "CONNECTION_CLOSED" });
  const statement: Promise<never> = Promise.reject(error);
  statement.catch(() => undefined); // handled by whoever awaits it, if anyone does
  return Object.assign(statement, { values: () => statement, raw: () => statement, cancel: () => undefined });
}

export function connectionGone(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (GONE.has((e as { code?: unknown }).code as string)) return true;
  }
  return false;
}

function never(): Promise<never> {
  return new Promise(() => undefined);
}

/**
 * postgres.js reads the array types on every new connection before its first statement: a
 * failure of that read (a reset, the pool closed meanwhile) is an unhandled rejection (Node
 * then ends the process), and every reconnection costs a round trip more. The types are the
 * same each time and the pool's parsers keep them: the first connection reads them as the pool
 * opens, and the next ones skip the read. Unanswered within `ms`, the pool opens anyway (and
 * its connections read them until one has).
 */
export async function fetchTypesOnce(client: postgres.Sql, ms: number): Promise<void> {
  const read = client`select 1`.then(() => {
    client.options.fetch_types = false;
  });
  await withTimeout(read, ms).catch(() => undefined); // the statements that follow fail as they will
}

/**
 * Asks PostgreSQL to cancel `statement` (a postgres.js query). Its `cancel()` drops the promise
 * of the cancel request, which goes out on a connection of its own: when that connection fails
 * (reset, refused), the rejection is unhandled and Node ends the process. The same request
 * here, through the query's own canceller, with its failure ignored: the statement has already
 * failed for its caller. (Versions without a canceller get `cancel()`.)
 */
export function cancelStatement(statement: { cancel?: () => unknown; canceller?: unknown }): void {
  const { canceller } = statement;
  if (typeof canceller !== "function") {
    statement.cancel?.();
    return;
  }
  statement.canceller = null; // as cancel() does: one request per query
  Promise.resolve((canceller as (query: object) => unknown)(statement)).catch(() => undefined);
}
