/**
 * Advisory locks on PostgreSQL (migrations, the reconciler's pass): one instance at a time.
 *
 * The lock is a transaction's (`pg_advisory_xact_lock`), held by a transaction of its own
 * while the work runs on the pool, and released by its COMMIT or ROLLBACK. Not a session lock
 * on a reserved connection: unlocking needs one more statement on that connection, and when it
 * died meanwhile postgres.js writes the statement to its closed socket from a timer, out of
 * every caller's reach, and the process dies (porsager/postgres #1208; a reset under the
 * reconciler's pass did that). A transaction whose connection died sends nothing more
 * (driver-workarounds.ts), and PostgreSQL dropped the lock with the session.
 */
import type postgres from "postgres";
import { guardedTransaction } from "./driver-workarounds.js";

export type Locked<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `fn` holding the lock `key`: waiting for it (`wait`), or giving up at once when another
 * session holds it (`{ ran: false }`). The lock's transaction failing under `fn` (its connection
 * died: the lock is gone with it) does not cut `fn` short: its outcome is the answer.
 */
export async function holdingLock<T>(client: postgres.Sql, key: number, wait: boolean, fn: () => Promise<T>): Promise<Locked<T>> {
  let work: Promise<T> | undefined;
  const statement = wait ? "select true as locked from pg_advisory_xact_lock($1)" : "select pg_try_advisory_xact_lock($1) as locked";
  const held = guardedTransaction(
    (callback) => client.begin(callback),
    async (tx) => {
      // The transaction idles while the work runs: a server-wide idle-in-transaction timeout must not end it.
      await (tx as postgres.Sql).unsafe("set local idle_in_transaction_session_timeout = 0");
      const [row] = await (tx as postgres.Sql).unsafe<{ locked: boolean }[]>(statement, [key]);
      if (!row?.locked) return;
      work = fn();
      await work;
    },
  );
  try {
    await held;
  } catch (error) {
    if (!work) throw error;
  }
  return work ? { ran: true, value: await work } : { ran: false };
}
