/**
 * RECONNECTING over the real graphql-ws client: a doctor whose connection drops for a network
 * reason shows as RECONNECTING on their dashboard right after the webhook, then ONLINE again
 * when they rejoin, or OFFLINE (pushed as PARTICIPANT_OFFLINE) once the window has passed.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsultationTimelineDocument, MyConsultationEventsDocument, type MyConsultationEventsSubscription } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { peerJoinSuccess, peerLeaveSuccess, sessionOpenSuccess } from "../support/hms-webhooks.js";
import { subscribe } from "../support/ws.js";
import { encodeEventId } from "../../src/consultations/event-cursor.js";

const WINDOW_SECONDS = 2;
// The webhook is applied and pushed in one pass (the target is 100 ms); the bound leaves room
// for a loaded 2-core machine. Without RECONNECTING the state assertion fails whatever the time.
const PUSH_BOUND_MS = 400;

let test: TestDatabase;
let api: TestApi;
let adminToken: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { RECONNECT_WINDOW_SECONDS: String(WINDOW_SECONDS) });
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

/** A call in progress now: both sides in the room, the doctor's dashboard subscribed. */
async function callInProgress() {
  const team = await createCareTeamWithRoom(test.database.db);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const start = new Date(Date.now() - 30_000);
  const session = { roomId: team.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: start };
  const person = (side: "doctor" | "patient", joinedAt: Date) => ({
    peerId: randomUUID(), userId: team.parties[`${side}UserId`], userName: side, userData: "", role: side, joinedAt,
  });
  const doctor = person("doctor", new Date(start.getTime() + 1_000));
  for (const w of [sessionOpenSuccess(ctx, session), peerJoinSuccess(ctx, session, person("patient", start)), peerJoinSuccess(ctx, session, doctor)]) {
    expect(await api.webhook(w)).toBe(200);
  }
  const dashboard = subscribe(api.url, await api.tokenFor(team.doctor.user.id), MyConsultationEventsDocument, { after: encodeEventId(0) });
  await dashboard.waitFor(3); // patient joined, doctor joined, ACTIVE: replayed from the log
  const dropAt = new Date();
  const drop = peerLeaveSuccess(ctx, session, doctor, { leftAt: dropAt, reason: "websocket closed" });
  const rejoin = (at: Date) => peerJoinSuccess(ctx, session, person("doctor", at));
  const doctorState = async () => {
    const result = await api.gql(ConsultationTimelineDocument, { id: team.consultation.id, first: 100 }, adminToken);
    return result.data!.consultation!.participants.find((p) => p.role === "DOCTOR")!;
  };
  return { team, dashboard, drop, dropAt, rejoin, doctorState };
}

type Pushed = MyConsultationEventsSubscription["myConsultationEvents"];

/** Sends a webhook and resolves with the next pushed event and how long after the POST it arrived. */
async function pushedAfter(call: Awaited<ReturnType<typeof callInProgress>>, webhook: unknown): Promise<{ event: Pushed; ms: number }> {
  const arrival = call.dashboard.waitFor(call.dashboard.results.length + 1, 5_000);
  const sent = performance.now();
  const [got] = await Promise.all([arrival.then((r) => ({ event: r.at(-1)!.myConsultationEvents, ms: performance.now() - sent })), api.webhook(webhook)]);
  return got;
}

describe("a doctor whose connection drops", () => {
  it("is RECONNECTING on the dashboard right after the webhook, then ONLINE again on rejoin", async () => {
    const call = await callInProgress();
    const { event, ms } = await pushedAfter(call, call.drop);
    expect(event).toMatchObject({ type: "PARTICIPANT_LEFT", participant: { role: "DOCTOR", online: false, state: "RECONNECTING" } });
    expect(ms).toBeLessThan(PUSH_BOUND_MS);
    const during = await call.doctorState();
    expect(during).toMatchObject({ online: false, state: "RECONNECTING" });
    // The window counts from the leave and from its delivery, a moment later.
    const until = Date.parse(during.reconnectingUntil!) - call.dropAt.getTime();
    expect(until).toBeGreaterThanOrEqual(WINDOW_SECONDS * 1000);
    expect(until).toBeLessThan(WINDOW_SECONDS * 1000 + 1_000);

    const back = await pushedAfter(call, call.rejoin(new Date(call.dropAt.getTime() + 500)));
    expect(back.event).toMatchObject({ type: "PARTICIPANT_JOINED", participant: { role: "DOCTOR", online: true, state: "ONLINE" } });
    expect(await call.doctorState()).toMatchObject({ online: true, state: "ONLINE", reconnectingUntil: null });
    // The window passes with the doctor back: nothing more is pushed.
    await new Promise((resolve) => setTimeout(resolve, WINDOW_SECONDS * 1000 + 300));
    expect(call.dashboard.results.map((r) => r.myConsultationEvents.type).slice(3)).toEqual(["PARTICIPANT_LEFT", "PARTICIPANT_JOINED"]);
    await call.dashboard.dispose();
  }, 20_000);

  it("goes OFFLINE, pushed, once the window has passed without a rejoin", async () => {
    const call = await callInProgress();
    const { event } = await pushedAfter(call, call.drop);
    expect(event.participant).toMatchObject({ state: "RECONNECTING" });
    const [, offline] = await call.dashboard.waitFor(5, WINDOW_SECONDS * 1000 + 3_000).then((r) => r.slice(3).map((x) => x.myConsultationEvents));
    expect(offline).toMatchObject({ type: "PARTICIPANT_OFFLINE", occurredAt: call.dropAt.toISOString(), participant: { role: "DOCTOR", online: false, state: "OFFLINE" } });
    expect(await call.doctorState()).toMatchObject({ online: false, state: "OFFLINE", reconnectingUntil: null });
    // The timeline shows what was pushed.
    const timeline = await api.gql(ConsultationTimelineDocument, { id: call.team.consultation.id, first: 100 }, adminToken);
    expect(timeline.data!.consultation!.events.edges.map((e) => e.node.id)).toEqual(call.dashboard.results.map((r) => r.myConsultationEvents.id));
    await call.dashboard.dispose();
  }, 20_000);

  it("retracts a pushed PARTICIPANT_OFFLINE when a late webhook shows the doctor was back within the window", async () => {
    const call = await callInProgress();
    await pushedAfter(call, call.drop);
    const offline = await call.dashboard.waitFor(5, WINDOW_SECONDS * 1000 + 3_000).then((r) => r[4]!.myConsultationEvents);
    expect(offline.type).toBe("PARTICIPANT_OFFLINE");
    await api.webhook(call.rejoin(new Date(call.dropAt.getTime() + 1_000)));
    const pushed = (await call.dashboard.waitFor(7)).slice(5).map((r) => r.myConsultationEvents);
    expect(pushed.map((e) => [e.type, e.retracts])).toEqual([["EVENT_RETRACTED", offline.id], ["PARTICIPANT_JOINED", null]]);
    expect(await call.doctorState()).toMatchObject({ state: "ONLINE" });
    await call.dashboard.dispose();
  }, 20_000);
});
