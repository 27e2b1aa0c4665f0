/**
 * Webhooks applied on a worker thread (WEBHOOK_APPLY=worker; inline is the default) end
 * exactly where the same webhooks applied inline end; a thread that dies mid-burst is
 * replaced, and every acknowledged event is applied exactly once; the queue's metrics reach
 * /metrics from the thread; stopping the API stops the thread. The embedded database always
 * applies inline.
 */
import { inArray } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmsWebhookEvents } from "../../src/db/schema.js";
import { ApplyWorker } from "../../src/app/apply-worker.js";
import { WebhookQueue } from "../../src/webhooks/webhook-queue.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, serverUrl, type TestDatabase, NEEDS_POSTGRES } from "../support/db.js";
import type { HmsWebhook } from "../support/hms-webhooks.js";
import { orderIndependent, readTimeline } from "../support/timeline.js";

const post = (api: TestApi, body: unknown) =>
  fetch(`${api.url}/webhooks/100ms`, {
    method: "POST",
    headers: { "content-type": "application/json", [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
    body: JSON.stringify(body),
  }).then(async (r) => (await r.arrayBuffer(), r.status));

/** Sends every body, `concurrency` at a time; `after(n)` runs once n have been answered. */
async function sendAll(api: TestApi, bodies: readonly HmsWebhook[], concurrency: number, after?: { n: number; run: () => Promise<void> }) {
  const statuses: number[] = [];
  let next = 0;
  let answered = 0;
  let hook: Promise<void> | undefined;
  const lane = async () => {
    while (next < bodies.length) {
      const i = next++;
      statuses[i] = await post(api, bodies[i]);
      if (++answered === after?.n) hook = after.run();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  await hook;
  return statuses;
}

describe.runIf(serverUrl() !== undefined)(`webhooks applied on a worker thread (PostgreSQL)${NEEDS_POSTGRES}`, () => {
  let test: TestDatabase;
  let adminToken: string;
  const started: TestApi[] = [];
  const start = async (env: Record<string, string> = {}, logs?: { write(line: string): void }) => {
    // A long grace period: calls stay ACTIVE, so comparisons do not race a completion timer.
    const api = await startTestApi(test, { COMPLETION_GRACE_SECONDS: "3600", WEBHOOK_APPLY: "worker", ...env }, logs ? { logs } : {});
    started.push(api);
    return api;
  };

  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
    adminToken = await (await start()).tokenFor((await createUser(test.database.db, "admin")).id);
  });

  afterAll(async () => {
    for (const api of started) await api.stop();
    await test?.close();
  });

  /** Every call starts at the same time, so their states compare equal. */
  const startAt = new Date(Date.now() - 400_000);
  const burstOf = async (calls: number) => {
    const teams = await Promise.all(Array.from({ length: calls }, () => createCareTeamWithRoom(test.database.db)));
    return { ids: teams.map((t) => t.consultation.id), bodies: teams.flatMap((t) => scriptedCall(t.parties, startAt)) };
  };
  const stateOf = async (api: TestApi, id: string) => orderIndependent(await readTimeline(api, adminToken, id));
  const inboxRows = (bodies: readonly HmsWebhook[]) =>
    test.database.db.select().from(hmsWebhookEvents).where(inArray(hmsWebhookEvents.id, bodies.map((b) => b.id)));

  it("applies on the thread with WEBHOOK_APPLY=worker, inline by default, to the same state", async () => {
    const onThread = await start();
    const inline = await startTestApi(test, { COMPLETION_GRACE_SECONDS: "3600" }); // no WEBHOOK_APPLY
    started.push(inline);
    expect(onThread.api.services.webhooks).toBeInstanceOf(ApplyWorker);
    expect(inline.api.services.webhooks).toBeInstanceOf(WebhookQueue);
    const states = [];
    for (const api of [onThread, inline]) {
      const { ids, bodies } = await burstOf(4);
      expect(await sendAll(api, bodies, 16)).toEqual(bodies.map(() => 200));
      await api.settled();
      expect((await inboxRows(bodies)).every((r) => r.processedAt !== null && r.outcome === "applied")).toBe(true);
      states.push(await Promise.all(ids.map((id) => stateOf(api, id))));
    }
    const [threadStates, inlineStates] = states;
    expect(threadStates![0]!.status).toBe("ACTIVE");
    expect(threadStates![0]!.events.map((e) => e.type)).toEqual(["PARTICIPANT_JOINED", "PARTICIPANT_JOINED", "STATUS_CHANGED", "PARTICIPANT_LEFT", "PARTICIPANT_LEFT"]);
    for (const s of [...threadStates!, ...inlineStates!]) expect(s).toEqual(threadStates![0]);
  }, 60_000);

  it("replaces a thread that dies mid-burst; every acknowledged event is applied exactly once", async () => {
    const logs: string[] = [];
    const api = await start({}, { write: (line) => void logs.push(line) });
    const applier = api.api.services.webhooks as ApplyWorker;
    const { ids, bodies } = await burstOf(20);
    let killedAt = new Date();
    const first = applier.thread;
    const statuses = await sendAll(api, bodies, 8, {
      n: 40,
      run: async () => {
        killedAt = new Date();
        await first!.terminate();
      },
    });
    expect(statuses).toEqual(bodies.map(() => 200));
    await api.settled();
    expect(applier.thread).not.toBe(first);
    expect(applier.thread).not.toBeNull();
    expect(logs.some((l) => l.includes("webhook apply thread exited"))).toBe(true);
    const rows = await inboxRows(bodies);
    expect(rows).toHaveLength(bodies.length);
    // The claim that marks a row processed is in the applying transaction: attempts 1 = applied once.
    expect(rows.filter((r) => r.processedAt === null || r.attempts !== 1 || r.outcome !== "applied")).toEqual([]);
    expect(rows.some((r) => r.processedAt! > killedAt)).toBe(true);
    const reference = await stateOf(api, ids[0]!);
    expect(reference.events).toHaveLength(5);
    for (const id of ids) expect(await stateOf(api, id)).toEqual(reference);
  }, 60_000);

  it("whatever the order of the deliveries and the moment the thread dies, applies every acknowledged event exactly once", async () => {
    const api = await start();
    const applier = api.api.services.webhooks as ApplyWorker;
    await fc.assert(
      fc.asyncProperty(
        fc.record({ order: fc.array(fc.nat(), { minLength: 16, maxLength: 16 }), killAfter: fc.integer({ min: 1, max: 15 }), concurrency: fc.integer({ min: 1, max: 8 }) }),
        async ({ order, killAfter, concurrency }) => {
          const { ids, bodies } = await burstOf(4);
          // A random permutation: 100ms delivers in any order.
          const shuffled = bodies.map((b, i) => [order[i]!, i, b] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, , b]) => b);
          const dying = applier.thread;
          const statuses = await sendAll(api, shuffled, concurrency, { n: killAfter, run: async () => void (await dying?.terminate()) });
          expect(statuses).toEqual(shuffled.map(() => 200));
          await api.settled();
          expect(applier.thread).not.toBe(dying);
          const rows = await inboxRows(shuffled);
          expect(rows).toHaveLength(shuffled.length);
          expect(rows.filter((r) => r.processedAt === null || r.attempts !== 1 || r.outcome !== "applied")).toEqual([]);
          for (const id of ids) {
            const state = await stateOf(api, id);
            expect(state.status).toBe("ACTIVE");
            expect(state.events.map((e) => e.type).sort()).toEqual(["PARTICIPANT_JOINED", "PARTICIPANT_JOINED", "PARTICIPANT_LEFT", "PARTICIPANT_LEFT", "STATUS_CHANGED"]);
          }
        },
      ),
      { numRuns: 4, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31) },
    );
  }, 120_000);

  it("reports the thread's outcomes and batches on /metrics, and settles with them counted", async () => {
    const api = await start();
    const metric = async (pattern: RegExp) => Number(pattern.exec(await api.api.services.metrics.registry.metrics())?.[1] ?? 0);
    const applied = /hms_webhooks_total\{type="peer.join.success",outcome="applied"\} (\d+)/;
    const batches = /hms_webhook_batch_size_count (\d+)/;
    const before = { applied: await metric(applied), batches: await metric(batches) };
    const { bodies } = await burstOf(3);
    await sendAll(api, bodies, 18);
    await api.settled();
    expect((await metric(applied)) - before.applied).toBe(6);
    expect(await metric(batches)).toBeGreaterThan(before.batches);
    expect(await metric(/hms_webhooks_queued (\d+)/)).toBe(0);
  }, 60_000);

  it("stops the thread with the API; what it had not applied, the next start applies", async () => {
    const api = await start();
    const applier = api.api.services.webhooks as ApplyWorker;
    const { bodies } = await burstOf(10);
    expect(await sendAll(api, bodies, 16)).toEqual(bodies.map(() => 200));
    await api.stop();
    expect(applier.thread).toBeNull();
    const next = await start();
    await next.settled();
    expect((await inboxRows(bodies)).filter((r) => r.processedAt === null)).toEqual([]);
  }, 60_000);
});

describe("on the embedded database", () => {
  it("applies inline whatever WEBHOOK_APPLY says (one connection, not shareable between threads)", async () => {
    const test = await createTestDatabase({ driver: "embedded" });
    const api = await startTestApi(test);
    try {
      expect(api.api.services.webhooks).toBeInstanceOf(WebhookQueue);
    } finally {
      await api.stop();
      await test.close();
    }
  });
});
