/**
 * A statement built once runs on whatever handle it is given: a transaction's sees that
 * transaction's uncommitted rows (it runs on the transaction's connection, not the pool's),
 * the pool's does not (PostgreSQL: PGlite's one connection is the transaction's meanwhile), and rows are mapped as drizzle maps them. On PostgreSQL and on PGlite
 * in one process (one template per driver). This pins drizzle internals the helper relies
 * on (a prepared query's `client`, a handle's `session.client`) against upgrades.
 */
import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { builtOnce } from "../../src/db/built-once.js";
import { users } from "../../src/db/schema.js";
import { createTestDatabase, NEEDS_POSTGRES, type TestDatabase } from "../support/db.js";

const byEmail = builtOnce("test_user_by_email", (db) => db
  .select({ id: users.id, fullName: users.fullName, createdAt: users.createdAt })
  .from(users)
  .where(eq(users.email, sql.placeholder("email"))));

class Rollback extends Error {}

async function checkOn(test: TestDatabase): Promise<void> {
  const { db } = test.database;
  const email = `${randomUUID()}@example.test`;
  const seen = { inside: [] as unknown[], outside: [] as unknown[] };
  await db
    .transaction(async (tx) => {
      await tx.insert(users).values({ email, fullName: "Ana Rivera", role: "doctor" });
      seen.inside = await byEmail(tx).execute({ email });
      // PGlite has one connection, busy with this transaction: the pool's read waits for its end there.
      if (test.kind === "postgres") seen.outside = await byEmail(db).execute({ email });
      throw new Rollback();
    })
    .catch((e) => {
      if (!(e instanceof Rollback)) throw e;
    });
  expect(seen.inside).toEqual([{ id: expect.any(String), fullName: "Ana Rivera", createdAt: expect.any(Date) }]);
  expect(seen.outside).toEqual([]);
  expect(await byEmail(db).execute({ email })).toEqual([]); // rolled back
  await db.insert(users).values({ email, fullName: "Ana Rivera", role: "doctor" });
  expect(await byEmail(db).execute({ email })).toHaveLength(1);
}

describe("a statement built once", () => {
  let embedded: TestDatabase;
  let server: TestDatabase | undefined;
  /** What each handle's own query logger saw. */
  const logged = { embedded: [] as string[], other: [] as string[], server: [] as string[] };
  const byEmailRuns = (list: string[]) => list.filter((q) => q.includes('"email" = $1')).length;
  beforeAll(async () => {
    embedded = await createTestDatabase({ driver: "embedded", onQuery: (q) => logged.embedded.push(q) });
    if (!NEEDS_POSTGRES) server = await createTestDatabase({ driver: "postgres", onQuery: (q) => logged.server.push(q) });
  });
  afterAll(async () => {
    await embedded?.close();
    await server?.close();
  });

  it("runs on the handle it is given, on PGlite, and logs to that handle's logger", async () => {
    await checkOn(embedded);
    expect(byEmailRuns(logged.embedded)).toBe(3);
    const other = await createTestDatabase({ driver: "embedded", onQuery: (q) => logged.other.push(q) });
    try {
      await checkOn(other); // a second database of the same driver: the template is the first's
    } finally {
      await other.close();
    }
    expect(byEmailRuns(logged.other)).toBe(3);
    expect(byEmailRuns(logged.embedded)).toBe(3);
  });

  it.skipIf(NEEDS_POSTGRES)(`runs on the handle it is given, on PostgreSQL, beside PGlite${NEEDS_POSTGRES}`, async () => {
    await checkOn(server!);
    const onServer = byEmailRuns(logged.server);
    await checkOn(embedded); // the other driver's template, still its own
    // Each handle's queries reach its own logger, whichever handle built the template.
    expect(onServer).toBe(4);
    expect(byEmailRuns(logged.server)).toBe(4);
  });
});
