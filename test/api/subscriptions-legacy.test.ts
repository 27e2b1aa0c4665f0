/**
 * Subscriptions over the legacy Apollo protocol (sub-protocol "graphql-ws", or none at all as
 * ferry sends) with the real subscriptions-transport-ws client, token in
 * `headers.Authorization` as graphql_flutter apps send it: live delivery, resume with `after`,
 * a stranger's consultation, no token, token expiry. And every payload spelling on both
 * protocols with their real clients.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { ConsultationEventsDocument, MyConsultationEventsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { subscribeLegacy } from "../support/legacy-ws.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

async function callWithRoom() {
  const t = await createCareTeam(test.database.db);
  const roomId = `room-${t.consultation.id}`;
  await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, t.consultation.id));
  await test.database.db.update(appointments).set({ scheduledAt: new Date() }).where(eq(appointments.id, t.appointment.id));
  const parties = { roomId, doctorUserId: t.doctor.user.id, patientUserId: t.patient.user.id };
  return {
    ...t,
    parties,
    doctorToken: await api.tokenFor(t.doctor.user.id),
    patientToken: await api.tokenFor(t.patient.user.id),
    webhooks: scriptedCall(parties, new Date(Date.now() - 3_600_000)),
  };
}

/** The consultation's event log, in log order: what a stream must deliver. */
async function logIds(consultationId: string): Promise<string[]> {
  const rows = await test.database.rows<{ id: number }>(sql`select id::int as id from consultation_events where consultation_id = ${consultationId} order by id`);
  return rows.map((r) => encodeEventId(r.id));
}

const settle = (ms = 300) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the legacy protocol", () => {
  it.each([
    ["graphql-ws", ["graphql-ws"]],
    ["no sub-protocol (ferry)", []],
  ])("delivers a consultation's events live, offered %s", async (_name, protocols) => {
    const call = await callWithRoom();
    const other = await callWithRoom();
    const dashboard = subscribeLegacy(api.url, call.doctorToken, MyConsultationEventsDocument, {}, { protocols });
    const patientView = subscribeLegacy(api.url, call.patientToken, ConsultationEventsDocument, { consultationId: call.consultation.id }, { protocols });
    await settle();
    for (const event of other.webhooks) expect(await api.webhook(event)).toBe(200);
    for (const event of call.webhooks) expect(await api.webhook(event)).toBe(200);
    const expected = await logIds(call.consultation.id);
    expect(expected.length).toBeGreaterThanOrEqual(5);
    const got = await dashboard.waitFor(expected.length);
    expect(got.map((r) => r.myConsultationEvents.id)).toEqual(expected);
    expect((await patientView.waitFor(expected.length)).map((r) => r.consultationEvents.id)).toEqual(expected);
    await settle(200);
    expect(dashboard.results).toHaveLength(expected.length); // nothing of the other doctor's call
    expect(dashboard.errors).toEqual([]);
    await dashboard.dispose();
    await patientView.dispose();
  });

  it("resumes with `after`: the full sequence, no gap and no duplicate, while events are being written", async () => {
    const call = await callWithRoom();
    await api.webhook(call.webhooks[0]);
    await api.webhook(call.webhooks[1]);
    const [firstId] = await logIds(call.consultation.id);
    const writer = (async () => {
      for (let i = 0; i < 20; i++) {
        const extra = scriptedCall(call.parties, new Date(Date.now() - 600_000 + i * 10_000));
        await api.webhook(extra[2]);
        await api.webhook(extra[3]);
      }
    })();
    const resumed = subscribeLegacy(api.url, call.doctorToken, ConsultationEventsDocument, { consultationId: call.consultation.id, after: firstId! });
    await writer;
    const expected = (await logIds(call.consultation.id)).slice(1);
    expect(expected.length).toBeGreaterThan(20);
    await resumed.waitFor(expected.length, 20_000);
    await settle(200);
    expect(resumed.results.map((r) => r.consultationEvents.id)).toEqual(expected);
    await resumed.dispose();
  }, 40_000);

  it("answers NOT_FOUND for a stranger's consultation, as a result with errors", async () => {
    const mine = await callWithRoom();
    const stranger = await callWithRoom();
    const s = subscribeLegacy(api.url, stranger.doctorToken, ConsultationEventsDocument, { consultationId: mine.consultation.id });
    await expect.poll(() => s.errors.length).toBeGreaterThan(0);
    expect(s.errors).toMatchObject([{ extensions: { code: "NOT_FOUND" } }]);
    await api.webhook(mine.webhooks[0]);
    await settle();
    expect(s.results).toEqual([]);
    await s.dispose();
  });

  it("closes with 4403 without a token or with a forged one", async () => {
    expect(await subscribeLegacy(api.url, null, MyConsultationEventsDocument, {}).closed).toBe(4403);
    expect(await subscribeLegacy(api.url, "not.a.token", MyConsultationEventsDocument, {}).closed).toBe(4403);
  });

  it("closes with 4403 when the token expires", async () => {
    const call = await callWithRoom();
    const shortLived = await api.tokenFor(call.doctor.user.id, { ttlSeconds: 2 });
    const s = subscribeLegacy(api.url, shortLived, MyConsultationEventsDocument, {});
    await settle();
    expect(api.api.openSockets()).toBeGreaterThan(0);
    expect(await s.closed).toBe(4403);
  }, 15_000);
});

describe("connection payload spellings", () => {
  const spellings = (token: string): Array<[string, Record<string, unknown>]> => [
    ["authorization", { authorization: `Bearer ${token}` }],
    ["Authorization", { Authorization: `Bearer ${token}` }],
    ["headers.authorization", { headers: { authorization: `Bearer ${token}` } }],
    ["headers.Authorization", { headers: { Authorization: `Bearer ${token}` } }],
  ];

  it("each one delivers events on both protocols", async () => {
    const call = await callWithRoom();
    const streams = spellings(call.doctorToken).flatMap(([, params]) => [
      subscribe(api.url, null, MyConsultationEventsDocument, {}, params),
      subscribeLegacy(api.url, null, MyConsultationEventsDocument, {}, { connectionParams: params }),
    ]);
    await settle(500);
    await api.webhook(call.webhooks[0]);
    await api.webhook(call.webhooks[1]);
    const expected = await logIds(call.consultation.id);
    for (const s of streams) expect((await s.waitFor(expected.length)).map((r) => r.myConsultationEvents.id)).toEqual(expected);
    await Promise.all(streams.map((s) => s.dispose()));
  });
});
