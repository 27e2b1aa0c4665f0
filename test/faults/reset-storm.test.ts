/**
 * A reset storm between two API instances and PostgreSQL: both reach it through one TCP proxy
 * that destroys every connection (pools and LISTEN connections alike) every 0.5–2 s and adds
 * 100 ms to each round trip, with DATABASE_QUERY_TIMEOUT_MS=1000. Meanwhile 100ms's webhooks
 * for four calls go to either instance, each resent until it is acknowledged (as 100ms does
 * after a 503), and dashboards follow the calls over graphql-ws, subscribing again after the
 * last event they got whenever their stream ends; one of them drops off mid-storm and comes
 * back on the other instance. Once it stops, without a restart: every acknowledged webhook is
 * in the inbox once and applied, each call's log holds what a calm call's does (nothing
 * twice), and every dashboard got exactly the log's events, in order, none missing, none twice.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { openDatabase, type Database } from "../../src/db/client.js";
import { consultationEvents, hmsWebhookEvents } from "../../src/db/schema.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, NEEDS_POSTGRES, serverUrl, type TestDatabase } from "../support/db.js";
import type { HmsWebhook } from "../support/hms-webhooks.js";
import { resumingDashboard, type ResumingDashboard } from "../support/resuming-dashboard.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { postWebhook } from "../support/webhook-stream.js";

const CALLS = 4;
/** A call's six webhooks go out one after each of the first resets: all of them land in the storm. */
const RESETS = 8;
/** Generous: after the storm, failed applies wait for the queue's retry (1 s doubling to 5 s). */
const SETTLED_MS = 40_000;

let test: TestDatabase;
let proxy: TcpProxy;
let databases: Database[] = [];
let apis: TestApi[] = [];
const dashboards: ResumingDashboard[] = [];

describe.runIf(Boolean(serverUrl()))(`two instances through a storm of connection resets${NEEDS_POSTGRES}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase();
    const direct = new URL(test.url!);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const url = Object.assign(new URL(test.url!), { port: String(proxy.port) }).toString();
    databases = await Promise.all([0, 1].map(() => openDatabase({ url, poolMax: 5, queryTimeoutMs: 1_000, listenHeartbeatMs: 500 })));
    for (const database of databases) apis.push(await startTestApi({ ...test, url, database }, { DATABASE_QUERY_TIMEOUT_MS: "1000" }));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(dashboards.map((d) => d.stop()));
    await Promise.all(apis.map((api) => api.stop()));
    await Promise.all(databases.map((database) => database.close()));
    await proxy?.close();
    await test?.close();
  });

  it("applies every acknowledged webhook once, and every dashboard gets every event once, in log order", async () => {
    const db = test.database.db;
    const past = new Date(Date.now() - 3_600_000);
    // A calm call first: what a call's log holds.
    const calm = await createCareTeamWithRoom(db);
    for (const body of scriptedCall(calm.parties, past)) expect(await apis[0]!.webhook(body)).toBe(200);
    const calmTypes = await typesOf(calm.consultation.id);
    expect(calmTypes).toContain("PARTICIPANT_JOINED");

    const teams = await Promise.all(Array.from({ length: CALLS }, () => createCareTeamWithRoom(db)));
    const fromStart = encodeEventId(0);
    for (const [k, team] of teams.entries()) dashboards.push(resumingDashboard(apis[k % 2]!.url, await apis[0]!.tokenFor(team.doctor.user.id), fromStart));
    const admin = resumingDashboard(apis[0]!.url, await apis[0]!.tokenFor((await createUser(db, "admin")).id), fromStart);
    dashboards.push(admin);
    const calmLog = (await logOf()).map((e) => e.id);
    await expect.poll(() => admin.ids, { timeout: 20_000 }).toEqual(calmLog); // subscribed: the calm call replayed

    // 100 ms a round trip: the resets find statements in flight (acknowledgements, applies, reads).
    proxy.latency(100);
    const storm = startStorm(proxy);
    const acknowledged: string[] = [];
    const sending = teams.map(async (team, k) => {
      for (const [i, body] of scriptedCall(team.parties, past).entries()) {
        await untilResets(storm, i);
        await deliver(body, apis[(k + i) % 2]!.url);
        acknowledged.push(body.id);
      }
    });
    // The admin's phone drops mid-storm and comes back on the other instance, after the last event it got.
    await untilResets(storm, 2);
    await admin.pause();
    await untilResets(storm, 4);
    admin.resume(apis[1]!.url);
    await Promise.all(sending);
    await untilResets(storm, RESETS);
    storm.stop();
    proxy.latency(0);
    proxy.heal();

    // The inbox: every acknowledged delivery once, applied (nothing else from these rooms).
    const rooms = teams.map((t) => t.roomId);
    const inbox = () => db.select({ id: hmsWebhookEvents.id, outcome: hmsWebhookEvents.outcome }).from(hmsWebhookEvents).where(inArray(hmsWebhookEvents.roomId, rooms));
    // Applies cut by a reset are marked failed and read back by the queue itself (every 5 s at most).
    const unapplied = async () => {
      const rows = await db.select().from(hmsWebhookEvents).where(inArray(hmsWebhookEvents.roomId, rooms));
      return rows.filter((row) => row.outcome !== "applied").map((row) => ({ outcome: row.outcome, attempts: row.attempts, queued: apis.map((a) => a.api.services.webhooks.size) }));
    };
    await expect.poll(unapplied, { timeout: SETTLED_MS, interval: 250 }).toEqual([]);
    const stored = await inbox();
    expect(stored.map((row) => row.id).sort()).toEqual([...acknowledged].sort());
    expect(new Set(stored.map((row) => row.outcome))).toEqual(new Set(["applied"]));

    // The log: each call's timeline is the calm call's, nothing twice.
    for (const team of teams) await expect.poll(() => typesOf(team.consultation.id), { timeout: SETTLED_MS }).toEqual(calmTypes);

    // The dashboards: exactly the log (read directly), in order.
    const log = await logOf();
    for (const [k, team] of teams.entries()) {
      const own = log.filter((e) => e.consultationId === team.consultation.id).map((e) => e.id);
      await expect.poll(() => dashboards[k]!.ids, { timeout: SETTLED_MS }).toEqual(own);
    }
    await expect.poll(() => admin.ids, { timeout: SETTLED_MS }).toEqual(log.map((e) => e.id));

    // Recovered without a restart: both instances answer.
    for (const api of apis) await expect.poll(() => fetch(`${api.url}/readyz`).then((r) => r.status), { timeout: SETTLED_MS }).toBe(200);
  }, 90_000);
});

/** `reset()` every 0.5–2 s until stopped. */
function startStorm(tcp: TcpProxy) {
  let resets = 0;
  let timer: NodeJS.Timeout;
  const next = () => {
    timer = setTimeout(() => {
      tcp.reset();
      resets++;
      next();
    }, 500 + Math.random() * 1_500);
  };
  next();
  return {
    get resets() {
      return resets;
    },
    stop: () => clearTimeout(timer),
  };
}

function untilResets(storm: { resets: number }, count: number): Promise<unknown> {
  return expect.poll(() => storm.resets, { timeout: 30_000, interval: 50 }).toBeGreaterThanOrEqual(count);
}

/** POSTs until a 200, as 100ms resends a webhook that was not acknowledged. */
async function deliver(body: HmsWebhook, url: string): Promise<void> {
  for (;;) {
    const outcome = await postWebhook(`${url}/webhooks/100ms`, body, { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }, { timeoutMs: 15_000 });
    if (outcome.kind === "acknowledged") return;
    await sleep(100); // 100ms's retries are spaced too
  }
}

/**
 * The types of the events a consultation's timeline shows (its log less retractions and what
 * they retract), sorted: the same whatever order its webhooks were applied in (timeline-events.ts).
 */
async function typesOf(consultationId: string): Promise<string[]> {
  const rows = await test.database.db
    .select({ id: consultationEvents.id, type: consultationEvents.type, retractsId: consultationEvents.retractsId })
    .from(consultationEvents)
    .where(eq(consultationEvents.consultationId, consultationId));
  const retracted = new Set(rows.map((row) => row.retractsId).filter((id) => id !== null));
  return rows.filter((row) => row.type !== "EVENT_RETRACTED" && !retracted.has(row.id)).map((row) => row.type).sort();
}

/** The whole log, in id order, with the ids clients see. */
async function logOf(): Promise<Array<{ id: string; consultationId: string }>> {
  const rows = await test.database.db.select({ id: consultationEvents.id, consultationId: consultationEvents.consultationId }).from(consultationEvents).orderBy(consultationEvents.id);
  return rows.map((row) => ({ id: encodeEventId(Number(row.id)), consultationId: row.consultationId }));
}
