/**
 * Call quality reported by the apps, over HTTP and a subscription: each side's own app
 * reports during the call, throttled per side, ignored outside it; the doctor's dashboard
 * gets it live on the participant; the attendance record keeps the share of poor time.
 * An admin (no side) and another user are refused.
 */
import { randomUUID } from "node:crypto";
import { and, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { callQuality } from "../../src/db/schema.js";
import { CallQualityEventsDocument, CallQualityStateDocument, ReportCallQualityDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { peerJoinSuccess, sessionOpenSuccess } from "../support/hms-webhooks.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let adminToken: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

const codeOf = (r: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => r.errors?.map((e) => e.extensions?.code);

/** Both sides in the room: ACTIVE. */
async function activeCall() {
  const team = await createCareTeamWithRoom(test.database.db);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const start = new Date(Date.now() - 60_000);
  const session = { roomId: team.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: start };
  const peer = (side: "doctor" | "patient") => ({ peerId: randomUUID(), userId: team.parties[`${side}UserId`], userName: side, userData: "", role: side, joinedAt: start });
  for (const w of [sessionOpenSuccess(ctx, session), peerJoinSuccess(ctx, session, peer("patient")), peerJoinSuccess(ctx, session, peer("doctor"))]) expect(await api.webhook(w)).toBe(200);
  return { ...team, doctorToken: await api.tokenFor(team.doctor.user.id), patientToken: await api.tokenFor(team.patient.user.id) };
}

/** As if `seconds` had passed since the side's last write (the throttle and the time weights count from it). */
async function age(consultationId: string, side: "doctor" | "patient", seconds: number) {
  const shift = sql`interval '1 second' * ${seconds}`;
  await test.database.db.update(callQuality)
    .set({ lastAt: sql`${callQuality.lastAt} - ${shift}`, firstAt: sql`${callQuality.firstAt} - ${shift}` })
    .where(and(eq(callQuality.consultationId, consultationId), eq(callQuality.side, side)));
}

describe("call quality reported by the apps", () => {
  it("writes each side's own reports during the call, throttled, and pushes them live on the participant", async () => {
    const call = await activeCall();
    const dashboard = subscribe(api.url, call.doctorToken, CallQualityEventsDocument, { after: encodeEventId(0) });
    const report = (score: number, token = call.patientToken) => api.gql(ReportCallQualityDocument, { consultationId: call.consultation.id, score }, token);
    expect((await report(4)).data!.reportCallQuality).toMatchObject({ outcome: "ACCEPTED", role: "PATIENT", quality: { latest: 4, lowest: 4, reports: 1 } });
    expect((await report(1)).data!.reportCallQuality).toMatchObject({ outcome: "THROTTLED", quality: { latest: 4 } });
    expect((await report(2, call.doctorToken)).data!.reportCallQuality).toMatchObject({ outcome: "ACCEPTED", role: "DOCTOR", quality: { latest: 2 } });
    await age(call.consultation.id, "patient", 11);
    expect((await report(1)).data!.reportCallQuality).toMatchObject({ outcome: "ACCEPTED", quality: { latest: 1, lowest: 1, reports: 2 } });

    const pushed = () => dashboard.results.map((r) => r.myConsultationEvents).filter((e) => e.type === "CALL_QUALITY_CHANGED" && e.consultation.id === call.consultation.id);
    // Each event carries its own report's score; `participant` is the side as it is when the
    // frame is prepared, so a push that comes after a later report shows that one's summary.
    await expect.poll(() => pushed().map((e) => [e.participant?.role, e.participant?.online, e.qualityScore]), { timeout: 30_000 })
      .toEqual([["PATIENT", true, 4], ["DOCTOR", true, 2], ["PATIENT", true, 1]]);
    expect(pushed().at(-1)!.participant?.quality).toEqual({ latest: 1, lowest: 1 });
    await dashboard.dispose();
    const state = await api.gql(CallQualityStateDocument, { id: call.consultation.id }, call.doctorToken);
    expect(state.data!.consultation!.participants.map((p) => [p.role, p.quality?.latest, p.quality?.lowest])).toEqual([["DOCTOR", 2, 2], ["PATIENT", 1, 1]]);
  });

  it("keeps the share of poor time with the attendance record", async () => {
    const call = await activeCall();
    const report = (score: number) => api.gql(ReportCallQualityDocument, { consultationId: call.consultation.id, score }, call.patientToken);
    expect((await report(1)).errors).toBeUndefined();
    await age(call.consultation.id, "patient", 40); // poor for 40 s
    expect((await report(5)).data!.reportCallQuality.outcome).toBe("ACCEPTED");
    await age(call.consultation.id, "patient", 60); // then good for 60 s
    const state = await api.gql(CallQualityStateDocument, { id: call.consultation.id }, call.patientToken);
    expect(state.data!.consultation!.attendance!.quality).toMatchObject({ doctor: null, patient: { latest: 5, lowest: 1, reports: 2, reportedSeconds: 100, poorSeconds: 40 } });
    expect(state.data!.consultation!.attendance!.quality.patient!.poorShare).toBeCloseTo(0.4, 2);
  });

  it("ignores reports outside the call, and refuses a bad score, an admin (no side) and another user", async () => {
    const pending = await createCareTeamWithRoom(test.database.db);
    const patientToken = await api.tokenFor(pending.patient.user.id);
    const outside = await api.gql(ReportCallQualityDocument, { consultationId: pending.consultation.id, score: 3 }, patientToken);
    expect(outside.data!.reportCallQuality).toEqual({ outcome: "NOT_IN_CALL", role: "PATIENT", quality: null });
    const call = await activeCall();
    expect(codeOf(await api.gql(ReportCallQualityDocument, { consultationId: call.consultation.id, score: 6 }, call.patientToken))).toEqual(["BAD_USER_INPUT"]);
    expect(codeOf(await api.gql(ReportCallQualityDocument, { consultationId: call.consultation.id, score: 3 }, adminToken))).toEqual(["FORBIDDEN"]);
    expect(codeOf(await api.gql(ReportCallQualityDocument, { consultationId: call.consultation.id, score: 3 }, patientToken))).toEqual(["NOT_FOUND"]);
  });
});
