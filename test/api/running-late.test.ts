/**
 * "The doctor is running late" over HTTP and a subscription: the doctor (or an admin)
 * announces a delay, the patient's subscription gets the new expected start, the join window
 * and the no-show expiry honour it; bounded, idempotent, audited; the patient and other users
 * are refused. The 100ms stand-in provisions the rooms a join needs.
 */
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { appointments, auditEvents, videoConsultations } from "../../src/db/schema.js";
import { AnnounceDelayDocument, JoinConsultationDocument, RunningLateEventsDocument, RunningLateStateDocument } from "../gql/graphql.js";
import type { TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { startVideoStack } from "../support/hms-env.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let stop: () => Promise<void>;
let adminToken: string;

beforeAll(async () => {
  ({ test, api, stop } = await startVideoStack());
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await stop?.();
});

const codeOf = (r: { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> }) => r.errors?.map((e) => e.extensions?.code);

async function team(scheduledAt = new Date(Date.now() + 10 * 60_000)) {
  const t = await createCareTeam(test.database.db);
  await test.database.db.update(appointments).set({ scheduledAt }).where(eq(appointments.id, t.appointment.id));
  return { ...t, scheduledAt, doctorToken: await api.tokenFor(t.doctor.user.id), patientToken: await api.tokenFor(t.patient.user.id) };
}

describe("the doctor is running late", () => {
  it("tells the patient's subscription the new expected start, and shows it on the consultation", async () => {
    const t = await team();
    const patientApp = subscribe(api.url, t.patientToken, RunningLateEventsDocument, { consultationId: t.consultation.id, after: encodeEventId(0) });
    const announced = await api.gql(AnnounceDelayDocument, { consultationId: t.consultation.id, minutes: 15 }, t.doctorToken);
    expect(announced.errors).toBeUndefined();
    const expectedStartAt = new Date(t.scheduledAt.getTime() + 15 * 60_000).toISOString();
    expect(announced.data!.announceDelay).toMatchObject({ status: "PENDING", runningLate: { minutes: 15, expectedStartAt } });
    const [pushed] = await patientApp.waitFor(1);
    expect(pushed!.consultationEvents).toMatchObject({ type: "RUNNING_LATE", runningLate: { minutes: 15, expectedStartAt } });
    await patientApp.dispose();
    const state = await api.gql(RunningLateStateDocument, { id: t.consultation.id }, t.patientToken);
    expect(state.data!.consultation!.runningLate).toMatchObject({ minutes: 15, expectedStartAt });
    const [audit] = await test.database.db.select().from(auditEvents).where(and(eq(auditEvents.action, "consultation.delay"), eq(auditEvents.consultationId, t.consultation.id)));
    expect(audit).toMatchObject({ actorId: t.doctor.user.id, outcome: "allowed" });
  });

  it("is bounded: 0 to 120 minutes, five announcements; the same delay again is a no-op", async () => {
    const t = await team();
    const announce = (minutes: number, token = t.doctorToken) => api.gql(AnnounceDelayDocument, { consultationId: t.consultation.id, minutes }, token);
    expect(codeOf(await announce(121))).toEqual(["BAD_USER_INPUT"]);
    expect(codeOf(await announce(-1))).toEqual(["BAD_USER_INPUT"]);
    for (const minutes of [5, 10, 10, 20, 30]) expect((await announce(minutes)).errors).toBeUndefined();
    expect((await announce(0, adminToken)).errors).toBeUndefined(); // the fifth: an admin, back on time
    expect(codeOf(await announce(45))).toEqual(["BAD_USER_INPUT"]);
    const state = await api.gql(RunningLateStateDocument, { id: t.consultation.id }, adminToken);
    expect(state.data!.consultation!.runningLate).toBeNull();
    expect(state.data!.consultation!.events.edges.map((e) => e.node.runningLate?.minutes)).toEqual([5, 10, 20, 30, 0]);
  });

  it("refuses the patient (FORBIDDEN), another doctor (NOT_FOUND) and a call that is not PENDING (INVALID_STATE)", async () => {
    const t = await team();
    const other = await team();
    expect(codeOf(await api.gql(AnnounceDelayDocument, { consultationId: t.consultation.id, minutes: 10 }, t.patientToken))).toEqual(["FORBIDDEN"]);
    expect(codeOf(await api.gql(AnnounceDelayDocument, { consultationId: t.consultation.id, minutes: 10 }, other.doctorToken))).toEqual(["NOT_FOUND"]);
    expect((await api.gql(RunningLateStateDocument, { id: t.consultation.id }, other.doctorToken)).data!.consultation).toBeNull();
    const cancelled = await team();
    await api.post({ query: `mutation { cancelConsultation(consultationId: "${cancelled.consultation.id}") { id } }` }, { authorization: `Bearer ${cancelled.doctorToken}` });
    expect(codeOf(await api.gql(AnnounceDelayDocument, { consultationId: cancelled.consultation.id, minutes: 10 }, cancelled.doctorToken))).toEqual(["INVALID_STATE"]);
  });

  it("moves the join window's close and the no-show expiry by the delay", async () => {
    // Booked 95 min ago for 30 min with 60 min of grace: the window closed 5 min ago.
    const late = await team(new Date(Date.now() - 95 * 60_000));
    const onTime = await team(new Date(Date.now() - 95 * 60_000));
    expect((await api.gql(AnnounceDelayDocument, { consultationId: late.consultation.id, minutes: 30 }, late.doctorToken)).errors).toBeUndefined();
    // The late one may still be joined, with a token living until the moved close; the other not.
    const joined = await api.gql(JoinConsultationDocument, { consultationId: late.consultation.id }, late.patientToken);
    expect(joined.errors).toBeUndefined();
    const movedClose = late.scheduledAt.getTime() + (30 + 60 + 30) * 60_000;
    expect(joined.data!.joinConsultation.expiresAt).toBe(new Date(Math.floor(movedClose / 1000) * 1000).toISOString()); // whole seconds (JWT exp)
    const refused = await api.gql(JoinConsultationDocument, { consultationId: onTime.consultation.id }, onTime.patientToken);
    expect(codeOf(refused)).toEqual(["INVALID_STATE"]);
    expect(refused.errors![0]!.message).toBe("The join window has closed");
    await api.api.reconciler.runOnce();
    const status = async (id: string) => (await api.gql(RunningLateStateDocument, { id }, adminToken)).data!.consultation!.status;
    expect(await status(late.consultation.id)).toBe("PENDING");
    expect(await status(onTime.consultation.id)).toBe("CANCELLED");
  });

  it("mints the table's join tokens for older app versions again, living until the moved close", async () => {
    const t = await team();
    const join = (x: typeof t) => api.gql(JoinConsultationDocument, { consultationId: x.consultation.id }, x.doctorToken);
    expect((await join(t)).errors).toBeUndefined(); // provisions the room
    const expiries = async (x = t) => {
      const [row] = await test.database.db.select().from(videoConsultations).where(eq(videoConsultations.id, x.consultation.id));
      return [row!.doctorToken, row!.patientToken].map((jwt) => (JSON.parse(Buffer.from(jwt!.split(".")[1]!, "base64url").toString()) as { exp: number }).exp);
    };
    const close = (delay: number) => Math.floor((t.scheduledAt.getTime() + (30 + 60 + delay) * 60_000) / 1000); // 30 min booked, 60 of grace
    expect(await expiries()).toEqual([close(0), close(0)]);
    expect((await api.gql(AnnounceDelayDocument, { consultationId: t.consultation.id, minutes: 40 }, t.doctorToken)).errors).toBeUndefined();
    expect(await expiries()).toEqual([close(40), close(40)]);
    // A delay announced before the room exists: the tokens minted with the room live until the moved close.
    const early = await team(t.scheduledAt);
    expect((await api.gql(AnnounceDelayDocument, { consultationId: early.consultation.id, minutes: 25 }, early.doctorToken)).errors).toBeUndefined();
    expect((await join(early)).errors).toBeUndefined();
    expect(await expiries(early)).toEqual([close(25), close(25)]);
  });
});
