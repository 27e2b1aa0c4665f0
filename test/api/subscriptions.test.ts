/**
 * Subscriptions over graphql-ws on loopback: authentication in connection_init, per-event
 * authorization, live delivery across two API instances, resume with `after` (no gap, no
 * duplicate, even while events are being written), and a killed LISTEN connection.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LISTEN_APPLICATION_NAME } from "../../src/db/listen-connection.js";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { ConsultationEventsDocument, ConsultationTimelineDocument, MyConsultationEventsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, serverUrl, type TestDatabase, NEEDS_POSTGRES } from "../support/db.js";
import { subscribe } from "../support/ws.js";
import { encodeEventId } from "../../src/consultations/event-cursor.js";

let test: TestDatabase;
let a: TestApi;
let b: TestApi;
let adminToken: string;

// A call completes once its room has been quiet for the grace period, counted from the room's
// last delivery too: a short one lets a scripted call complete while the test watches.
const ENV = { COMPLETION_GRACE_SECONDS: "1" };

beforeAll(async () => {
  test = await createTestDatabase();
  a = await startTestApi(test, ENV);
  // A second instance on the same database (embedded PGlite is one process: same instance).
  b = test.kind === "postgres" ? await startTestApi(await reopen(test), ENV) : a;
  adminToken = await a.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  if (b !== a) await b?.stop();
  await a?.stop();
  await test?.close();
});

async function reopen(t: TestDatabase): Promise<TestDatabase> {
  const { openDatabase } = await import("../../src/db/client.js");
  const database = await openDatabase({ url: t.url, poolMax: 5 });
  return { ...t, database, close: () => database.close() };
}

async function callWithRoom() {
  const t = await createCareTeam(test.database.db);
  const roomId = `room-${t.consultation.id}`;
  await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, t.consultation.id));
  await test.database.db.update(appointments).set({ scheduledAt: new Date() }).where(eq(appointments.id, t.appointment.id));
  return {
    ...t,
    doctorToken: await a.tokenFor(t.doctor.user.id),
    patientToken: await a.tokenFor(t.patient.user.id),
    webhooks: scriptedCall({ roomId, doctorUserId: t.doctor.user.id, patientUserId: t.patient.user.id }, new Date(Date.now() - 3_600_000)),
  };
}

/** Every id the consultation's log holds, in log order: retracted events and retractions too. */
async function rawLogIds(consultationId: string): Promise<string[]> {
  const rows = await test.database.rows<{ id: number }>(
    sql`select id::int as id from consultation_events where consultation_id = ${consultationId} order by id`,
  );
  return rows.map((r) => encodeEventId(r.id));
}

/** A stream with its retractions applied: what a screen that removes each retracted event shows. */
function withRetractionsApplied(events: ReadonlyArray<{ id: string; type: string; retracts?: string | null }>): string[] {
  const retracted = new Set(events.flatMap((e) => (e.retracts ? [e.retracts] : [])));
  return events.filter((e) => e.type !== "EVENT_RETRACTED" && !retracted.has(e.id)).map((e) => e.id);
}

/** The timeline as `Consultation.events` shows it (what the facts support). */
async function logIds(consultationId: string): Promise<string[]> {
  const result = await a.gql(ConsultationTimelineDocument, { id: consultationId, first: 100 }, adminToken);
  return result.data!.consultation!.events.edges.map((e) => e.node.id);
}

describe("authentication", () => {
  it("closes the socket with 4403 for a missing or invalid token", async () => {
    const anonymous = subscribe(a.url, null, MyConsultationEventsDocument, {});
    expect(await anonymous.closed).toBe(4403);
    const forged = subscribe(a.url, "not.a.token", MyConsultationEventsDocument, {});
    expect(await forged.closed).toBe(4403);
  });

  it("closes the socket with 4403 when the token expires", async () => {
    const call = await callWithRoom();
    const shortLived = await a.tokenFor(call.doctor.user.id, { ttlSeconds: 2 });
    const s = subscribe(a.url, shortLived, MyConsultationEventsDocument, {});
    expect(await s.closed).toBe(4403);
  }, 15_000);

  it("answers NOT_FOUND for another doctor's consultation", async () => {
    const mine = await callWithRoom();
    const theirs = await callWithRoom();
    const s = subscribe(a.url, theirs.doctorToken, ConsultationEventsDocument, { consultationId: mine.consultation.id });
    await expect.poll(() => s.errors.length).toBeGreaterThan(0);
    expect(JSON.stringify(s.errors)).toContain("NOT_FOUND");
    await s.dispose();
  });
});

describe("live delivery", () => {
  it("delivers, in order, every event of a call whose webhooks all went to the other instance", async () => {
    const call = await callWithRoom();
    const other = await callWithRoom();
    const dashboard = subscribe(b.url, call.doctorToken, MyConsultationEventsDocument, {});
    const patientView = subscribe(b.url, call.patientToken, ConsultationEventsDocument, { consultationId: call.consultation.id });
    await new Promise((resolve) => setTimeout(resolve, 300)); // let both subscriptions start
    for (const event of other.webhooks) expect(await a.webhook(event)).toBe(200); // another doctor's call
    for (const event of call.webhooks) expect(await a.webhook(event)).toBe(200);
    // The sixth event (completion) comes once the grace period has passed since the last delivery.
    await expect.poll(() => logIds(call.consultation.id), { timeout: 10_000 }).toHaveLength(6);
    const expected = await logIds(call.consultation.id);
    const got = await dashboard.waitFor(6);
    expect(got.map((r) => r.myConsultationEvents.id)).toEqual(expected);
    expect(got.every((r) => r.myConsultationEvents.consultation.id === call.consultation.id)).toBe(true);
    expect((await patientView.waitFor(6)).map((r) => r.consultationEvents.id)).toEqual(expected);
    await dashboard.dispose();
    await patientView.dispose();
  });

  it("resumes with `after`: exactly the full sequence, no gap and no duplicate, while events are being written", async () => {
    const call = await callWithRoom();
    const [open, patientJoin] = call.webhooks;
    await a.webhook(open);
    await a.webhook(patientJoin);
    const [firstId] = await logIds(call.consultation.id);
    // Many more events, written while the resumed stream replays and goes live.
    const writer = (async () => {
      const base = Date.now() - 600_000;
      for (let i = 0; i < 40; i++) {
        const extra = scriptedCall(
          { roomId: `room-${call.consultation.id}`, doctorUserId: call.doctor.user.id, patientUserId: call.patient.user.id },
          new Date(base + i * 10_000),
        );
        await a.webhook(extra[2]); // a doctor connection joins...
        await a.webhook(extra[3]); // ...and leaves
      }
    })();
    const resumed = subscribe(b.url, call.doctorToken, ConsultationEventsDocument, { consultationId: call.consultation.id, after: firstId! });
    await writer;
    // The raw log: overlapping doctor connections (a leave before the next one's earlier join)
    // are corrected with EVENT_RETRACTED, which streams carry and the timeline hides.
    const all = await rawLogIds(call.consultation.id);
    const expected = all.slice(all.indexOf(firstId!) + 1);
    const got = await resumed.waitFor(expected.length, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(resumed.results.map((r) => r.consultationEvents.id)).toEqual(expected);
    expect(got.length).toBeGreaterThan(40);
    // What was pushed live and what the timeline shows agree.
    expect(withRetractionsApplied(resumed.results.map((r) => r.consultationEvents))).toEqual((await logIds(call.consultation.id)).slice(1));
    await resumed.dispose();
  }, 40_000);

  it("replays a backlog longer than several replay pages in order, then goes live", async () => {
    const call = await callWithRoom();
    // 2,600 logged events (past the first page of 250 and a page of 2,000), written directly.
    await test.database.db.execute(sql`
      insert into consultation_events (consultation_id, type, occurred_at, status, dedupe_key)
      select ${call.consultation.id}::uuid, 'PARTICIPANT_JOINED', now() - make_interval(secs => 3000 - g), 'pending', 'bulk:' || g
      from generate_series(1, 2600) g`);
    const allIds = async () =>
      (await test.database.rows<{ id: number }>(sql`select id::int as id from consultation_events where consultation_id = ${call.consultation.id} order by id`)).map((r) => encodeEventId(r.id));
    expect(await allIds()).toHaveLength(2600);
    const resumed = subscribe(b.url, call.doctorToken, ConsultationEventsDocument, { consultationId: call.consultation.id, after: encodeEventId(0) });
    await resumed.waitFor(2600, 20_000);
    await a.webhook(call.webhooks[0]);
    await a.webhook(call.webhooks[1]);
    const all = await allIds();
    expect(all.length).toBeGreaterThan(2600);
    await resumed.waitFor(all.length, 10_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(resumed.results.map((r) => r.consultationEvents.id)).toEqual(all);
    await resumed.dispose();
  }, 40_000);

  it.skipIf(!serverUrl())(
    `loses nothing when the LISTEN connection is killed${NEEDS_POSTGRES}`,
    async () => {
      const call = await callWithRoom();
      const dashboard = subscribe(b.url, call.doctorToken, MyConsultationEventsDocument, {});
      await new Promise((resolve) => setTimeout(resolve, 300));
      const [open, patientJoin, doctorJoin, ...rest] = call.webhooks;
      await a.webhook(open);
      await a.webhook(patientJoin);
      const killed = await test.database.rows(
        sql`select pg_terminate_backend(pid) from pg_stat_activity where application_name = ${LISTEN_APPLICATION_NAME} and datname = current_database()`,
      );
      expect(killed.length).toBeGreaterThanOrEqual(1);
      await a.webhook(doctorJoin);
      for (const event of rest) await a.webhook(event);
      const expected = await logIds(call.consultation.id);
      const got = await dashboard.waitFor(expected.length, 15_000);
      expect(got.map((r) => r.myConsultationEvents.id)).toEqual(expected);
      await dashboard.dispose();
    },
    30_000,
  );
});
