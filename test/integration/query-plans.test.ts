/**
 * What a webhook batch reads must not grow with the traffic before it. Its statements are
 * prepared once per connection (src/db/client.ts), often while the tables are still empty;
 * their plans must still read only the batch's rows once the inbox holds thousands of
 * earlier deliveries (and, until a vacuum, their dead versions): a plan fixed while the inbox
 * was empty scans all of it on every batch. Nor may the room's last delivery cost a visit to
 * every delivery the room ever had.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { planEachRun, type Db } from "../../src/db/client.js";
import { createRepos, type Repos } from "../../src/app/repos.js";
import { createCareTeamWithRoom } from "../support/builders.js";
import { createTestDatabase, type TestDatabase, NEEDS_POSTGRES } from "../support/db.js";

let test: TestDatabase;

beforeAll(async () => {
  test = await createTestDatabase();
});

afterAll(async () => {
  await test?.close();
});

const EARLIER_DELIVERIES = 20_000;

/** Rows of the inbox this transaction has read so far, by sequential and by index scans. */
async function inboxRowsRead(tx: Db): Promise<number> {
  const rows = await tx.execute(sql`select coalesce(sum(seq_tup_read + coalesce(idx_tup_fetch, 0)), 0)::int as n
    from pg_stat_xact_user_tables where relname = 'hms_webhook_events'`);
  return (rows as unknown as Array<{ n: number }>)[0]!.n;
}

/** A peer's join in `roomId`, as the inbox stores it. */
function joinEnvelope(id: string, roomId: string): Parameters<Repos["inbox"]["storeMany"]>[0][number] {
  const envelope = { id, type: "peer.join.success", timestamp: new Date().toISOString(), data: { room_id: roomId } };
  return envelope as Parameters<Repos["inbox"]["storeMany"]>[0][number];
}

/** What a batch of one webhook does to the inbox: store it, claim it, read the room's last delivery. */
async function oneBatch(repos: Repos, id: string, roomId: string): Promise<void> {
  await repos.inbox.storeMany([joinEnvelope(id, roomId)]);
  const claimed = await repos.inbox.claim([{ id, outcome: "applied" }]);
  expect(claimed.has(id)).toBe(true);
  const deliveries = await repos.peerFacts.lastDeliveriesOfMany([roomId]);
  expect(deliveries.has(roomId)).toBe(true);
}

describe.runIf(process.env.TEST_DATABASE_URL || process.env.DATABASE_URL)(`plans of the webhook path on PostgreSQL${NEEDS_POSTGRES}`, () => {
  it("read only the batch's own rows after the inbox filled up", async () => {
    const { roomId } = await createCareTeamWithRoom(test.database.db);
    // One transaction: one connection, so the statements prepared on the empty inbox are the ones run at the end.
    await test.database.db.transaction(async (tx) => {
      await planEachRun(tx); // as the webhook path's transactions do (services.ts)
      const repos = createRepos(tx);
      // More than the five custom plans PostgreSQL makes before it settles on a generic one.
      for (let i = 0; i < 8; i++) await oneBatch(repos, `early-${i}`, roomId);
      await tx.execute(sql`insert into hms_webhook_events (id, type, room_id, sent_at, payload)
        select 'earlier-' || g, 'peer.join.success', 'other-room-' || (g % 2000), now(), '{}'::jsonb
        from generate_series(1, ${EARLIER_DELIVERIES}::int) g`);
      await tx.execute(sql`update hms_webhook_events set processed_at = now(), outcome = 'applied' where id like 'earlier-%'`);
      const before = await inboxRowsRead(tx);
      await oneBatch(repos, "late", roomId);
      const read = (await inboxRowsRead(tx)) - before;
      expect(read).toBeLessThan(100);
    });
  });

  it("store a delivery, before its 200, reading only its own ids however full the inbox", async () => {
    // The inbox writer stores on the pool, outside the webhook path's transactions, so its
    // statement settles on a generic plan like any other: made while the inbox was empty,
    // one that looked earlier rows up by scanning kept scanning all of them, and every
    // acknowledgement grew slower with every delivery before it (the soak's p99 with it).
    await test.database.db.transaction(async (tx) => {
      const repos = createRepos(tx); // no planEachRun: as the writer's statements run
      await tx.execute(sql`truncate hms_webhook_events`); // a new deployment's inbox (earlier tests filled this one)
      const store = (id: string) => repos.inbox.storeMany([joinEnvelope(id, "a-room")]);
      for (let i = 0; i < 8; i++) expect((await store(`ack-early-${i}`)).get(`ack-early-${i}`)).toBe("first");
      await tx.execute(sql`insert into hms_webhook_events (id, type, room_id, sent_at, payload)
        select 'ack-earlier-' || g, 'peer.join.success', 'other-room-' || (g % 2000), now(), '{}'::jsonb
        from generate_series(1, ${EARLIER_DELIVERIES}::int) g`);
      await tx.execute(sql`update hms_webhook_events set processed_at = now(), outcome = 'applied' where id like 'ack-earlier-%'`);
      const before = await inboxRowsRead(tx);
      const first = await store("ack-late");
      const read = (await inboxRowsRead(tx)) - before;
      expect(first.get("ack-late")).toBe("first");
      expect(read).toBeLessThan(100);
      // What it says of a redelivery is unchanged: stored, then processed once applied.
      expect((await store("ack-late")).get("ack-late")).toBe("stored");
      expect((await store("ack-earlier-7")).get("ack-earlier-7")).toBe("processed");
    });
  });

  it("find a room's last delivery without reading the room's whole history", async () => {
    const { roomId } = await createCareTeamWithRoom(test.database.db);
    await test.database.db.transaction(async (tx) => {
      const repos = createRepos(tx);
      await tx.execute(sql`insert into hms_webhook_events (id, type, room_id, sent_at, received_at, payload)
        select 'history-' || g, 'peer.join.success', ${roomId}, now(), now() - (g || ' seconds')::interval, '{}'::jsonb
        from generate_series(1, 2000) g`);
      await tx.execute(sql`update hms_webhook_events set processed_at = now(), outcome = 'applied' where room_id = ${roomId}`);
      const before = await inboxRowsRead(tx);
      const deliveries = await repos.peerFacts.lastDeliveriesOfMany([roomId, "a-room-never-heard-from"]);
      const read = (await inboxRowsRead(tx)) - before;
      const [newest] = (await tx.execute(sql`select max(received_at) as at from hms_webhook_events where room_id = ${roomId}`)) as unknown as Array<{ at: string }>;
      expect([...deliveries.keys()]).toEqual([roomId]);
      expect(deliveries.get(roomId)!.getTime()).toBe(new Date(newest!.at).getTime());
      expect(read).toBeLessThan(10);
    });
  });
});
