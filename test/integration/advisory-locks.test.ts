/**
 * The advisory locks migrations and the reconciler's pass run under (src/db/advisory-lock.ts):
 * one holder at a time across pools, `tryWithAdvisoryLock` gives up at once while another holds
 * it, and the lock is released when the work fails as when it succeeds. A lock whose connection
 * dies while held: test/faults/dying-connections.test.ts.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.js";
import { createTestDatabase, NEEDS_POSTGRES, serverUrl, type TestDatabase } from "../support/db.js";

const KEY = 4_242_002;
let test: TestDatabase;
let one: Database;
let other: Database;

describe.runIf(Boolean(serverUrl()))(`advisory locks${NEEDS_POSTGRES}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase();
    const open = () => openDatabase({ url: test.url!, poolMax: 2, queryTimeoutMs: 5_000 });
    [one, other] = await Promise.all([open(), open()]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([one?.close(), other?.close()]);
    await test?.close();
  });

  it("lets one holder at a time run, across pools", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = one.withAdvisoryLock(KEY, async () => (entered(), await held, "first"));
    await inside;
    expect(await other.tryWithAdvisoryLock(KEY, async () => "second")).toEqual({ ran: false });
    const order: string[] = [];
    const waiting = other.withAdvisoryLock(KEY, async () => order.push("waited"));
    await expect.poll(() => waitingForLock()).toBe(1); // the second pool waits in PostgreSQL
    order.push("released");
    release();
    expect(await first).toBe("first");
    await waiting;
    expect(order).toEqual(["released", "waited"]);
  });

  it("releases the lock when the work fails, and passes the failure on", async () => {
    await expect(one.withAdvisoryLock(KEY, () => Promise.reject(new Error("migration failed")))).rejects.toThrow("migration failed");
    await expect(one.tryWithAdvisoryLock(KEY, () => Promise.reject(new Error("pass failed")))).rejects.toThrow("pass failed");
    expect(await other.tryWithAdvisoryLock(KEY, async () => "free")).toEqual({ ran: true, value: "free" });
  });

  it("keeps the lock while the work runs past a server's idle-in-transaction timeout", async () => {
    const [{ name } = { name: "" }] = await test.database.rows<{ name: string }>(sql`select current_database() as name`);
    await test.database.rows(sql.raw(`alter database "${name}" set idle_in_transaction_session_timeout = '200ms'`));
    const strict = await openDatabase({ url: test.url!, poolMax: 2, queryTimeoutMs: 5_000 }); // new sessions: the setting applies
    try {
      const held = await strict.withAdvisoryLock(KEY, async () => {
        // The lock's transaction idles well past the server's 200 ms, still in its transaction.
        await expect.poll(() => idleInTransactionMs(), { timeout: 10_000, interval: 50 }).toBeGreaterThan(600);
        return other.tryWithAdvisoryLock(KEY, async () => "taken");
      });
      expect(held).toEqual({ ran: false });
    } finally {
      await test.database.rows(sql.raw(`alter database "${name}" reset idle_in_transaction_session_timeout`));
      await strict.close();
    }
  });
});

async function idleInTransactionMs(): Promise<number> {
  const rows = await test.database.rows<{ ms: number }>(
    sql`select coalesce(max(extract(epoch from clock_timestamp() - state_change) * 1000), 0)::float8 as ms from pg_stat_activity
        where state = 'idle in transaction' and datname = current_database()`,
  );
  return rows[0]?.ms ?? 0;
}

async function waitingForLock(): Promise<number> {
  const rows = await test.database.rows<{ n: number }>(sql`select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = ${KEY} and not granted and database = (select oid from pg_database where datname = current_database())`);
  return rows[0]?.n ?? 0;
}
