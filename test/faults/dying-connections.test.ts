/**
 * Where postgres.js (3.4.9) would end the process when a connection dies under it, and what
 * the pool does instead (src/db/driver-workarounds.ts has the why), through a TCP proxy:
 * - a transaction's connection is reset between two of its statements: the transaction fails
 *   with the connection's error, and its next statement and its COMMIT are never written to
 *   the dead connection (postgres.js would throw from a timer there, out of every caller's
 *   reach); the pool serves the next statements;
 * - a statement past DATABASE_QUERY_TIMEOUT_MS is cancelled on a new connection, and that
 *   connection is refused: the refusal goes nowhere (postgres.js leaves it an unhandled
 *   rejection).
 * An uncaught exception or unhandled rejection fails this file (vitest reports it).
 */
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DatabaseTimeoutError, openDatabase, type Database } from "../../src/db/client.js";
import { createTestDatabase, NEEDS_POSTGRES, serverUrl, type TestDatabase } from "../support/db.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

let test: TestDatabase;
let proxy: TcpProxy;
let proxied: Database;
let url: string;

describe.runIf(Boolean(serverUrl()))(`a pool whose connections die under it${NEEDS_POSTGRES}`, () => {
  beforeEach(async () => {
    test = await createTestDatabase();
    const direct = new URL(test.url!);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    url = Object.assign(new URL(test.url!), { port: String(proxy.port) }).toString();
    // One connection: nothing else reconnects it before the transaction's next write.
    proxied = await openDatabase({ url, poolMax: 1, queryTimeoutMs: 500 });
    await proxied.rows(sql`select 1`);
  }, 60_000);

  afterEach(async () => {
    await proxied?.close();
    await proxy?.close();
    await test?.close();
  });

  for (const next of ["a statement", "its commit"] as const) {
    it(`fails a transaction reset under it, sends nothing more on it (${next}), and goes on`, async () => {
      let transaction!: Promise<unknown>;
      let afterReset: unknown = "not reached";
      transaction = proxied.db.transaction(async (tx) => {
        await tx.execute(sql`select 1`);
        proxy.reset();
        // The close of its connection fails the transaction itself (postgres.js races it).
        await transaction.catch(() => undefined);
        if (next === "a statement") afterReset = await tx.execute(sql`select 2`).then(() => "answered", codeOf);
      });
      await expect(transaction).rejects.toMatchObject({ code: "CONNECTION_CLOSED" });
      // The callback goes on after the transaction failed: its statement fails unsent.
      if (next === "a statement") await expect.poll(() => afterReset).toBe("CONNECTION_CLOSED");
      await expect.poll(() => answer(proxied), { timeout: 10_000 }).toEqual([{ one: 1 }]);
    }, 30_000);
  }

  it("lets a statement past the bound fail when its cancel request cannot connect", async () => {
    proxy.refuse(); // the pool's connection stays open; the cancel request's is refused
    // drizzle wraps the bound's error in its own.
    await expect(proxied.rows(sql`select pg_sleep(1)`)).rejects.toMatchObject({ cause: expect.any(DatabaseTimeoutError) });
    // The statement ran to its end on its connection, which serves the next one.
    await expect.poll(() => answer(proxied), { timeout: 10_000 }).toEqual([{ one: 1 }]);
  }, 30_000);
  it("releases an advisory lock whose connection died while held, without writing to the dead connection", async () => {
    const key = 4_242_001;
    const two = await openDatabase({ url, poolMax: 2, queryTimeoutMs: 500 }); // the lock's connection and one for the work
    const value = await two
      .withAdvisoryLock(key, async () => {
        proxy.reset(); // the lock's connection (and every other) is gone
        await expect.poll(() => answer(two), { timeout: 10_000 }).toEqual([{ one: 1 }]);
        return "done";
      })
      .finally(() => two.close());
    expect(value).toBe("done");
    // The lock went with its session: another session takes it at once.
    const [row] = await test.database.rows<{ locked: boolean }>(sql`select pg_try_advisory_lock(${key}) as locked`);
    expect(row?.locked).toBe(true);
    await test.database.rows(sql`select pg_advisory_unlock(${key})`);
  }, 30_000);

  it("closes a pooled connection whose network went silent for good, and the pool serves again", async () => {
    proxy.blackhole(); // the pool's connection: open, its bytes dropped, never closed
    await expect(proxied.rows(sql`select 1`)).rejects.toMatchObject({ cause: expect.any(DatabaseTimeoutError) });
    // New connections go through: the dead one is closed within a few bounds, not when TCP gives up.
    await expect.poll(() => answer(proxied), { timeout: 10_000, interval: 200 }).toEqual([{ one: 1 }]);
  }, 30_000);
});

function answer(database: Database): Promise<unknown> {
  return database.rows(sql`select 1 as one`).then(
    (rows) => rows,
    (error: Error) => error.message,
  );
}

/** drizzle wraps the driver's error in its own (the driver's is the cause). */
function codeOf(error: Error & { code?: string }): string | undefined {
  return (error.cause as { code?: string } | undefined)?.code ?? error.code;
}
