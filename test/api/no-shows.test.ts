/**
 * No-shows by side, over HTTP and a subscription: when the join window closes with the call
 * never ACTIVE, the API records which side never joined and how long the other waited, the
 * same whatever order the waiting side's webhooks arrived in; a side still waiting is told the
 * call ended (CALL_ENDED, with the API's reason); the clinic's appointment is a
 * NO_SHOW only when the patient never came. Another user's token sees none of it.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { appointments } from "../../src/db/schema.js";
import { NoShowEventsDocument, NoShowStateDocument, StartConsultationDocument } from "../gql/graphql.js";
import { TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { startVideoStack } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";
import { peerJoinSuccess, peerLeaveSuccess, sessionCloseSuccess, sessionOpenSuccess, type HmsWebhook } from "../support/hms-webhooks.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;
let adminToken: string;

// Booked 30 min, window grace 60 min (the defaults): booked 95 min ago, its window closed 5 min ago.
const BOOKED_MINUTES_AGO = 95;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack());
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await stop?.();
});

/** A consultation booked in the past, its room provisioned through the API (the 100ms stand-in). */
async function pastBooking() {
  const team = await createCareTeam(test.database.db);
  const scheduledAt = new Date(Date.now() - BOOKED_MINUTES_AGO * 60_000);
  await test.database.db.update(appointments).set({ scheduledAt }).where(eq(appointments.id, team.appointment.id));
  const started = await api.gql(StartConsultationDocument, { appointmentId: team.appointment.id }, await api.tokenFor(team.doctor.user.id));
  const roomId = started.data!.startConsultation.roomId!;
  return { ...team, scheduledAt, roomId, id: started.data!.startConsultation.id };
}

/** One side alone in the room from `from` to `to` minutes after the booked start. */
function waits(b: Awaited<ReturnType<typeof pastBooking>>, side: "doctor" | "patient", from: number, to: number): HmsWebhook[] {
  const at = (m: number) => new Date(b.scheduledAt.getTime() + m * 60_000);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const session = { roomId: b.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: at(from) };
  const peer = { peerId: randomUUID(), userId: side === "doctor" ? b.doctor.user.id : b.patient.user.id, userName: side, userData: "", role: side, joinedAt: at(from) };
  return [
    sessionOpenSuccess(ctx, session),
    peerJoinSuccess(ctx, session, peer),
    peerLeaveSuccess(ctx, session, peer, { leftAt: at(to), reason: "client request" }),
    sessionCloseSuccess(ctx, session, at(to)),
  ];
}

async function state(id: string, token = adminToken) {
  const result = await api.gql(NoShowStateDocument, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.consultation;
}

describe("no-shows by side", () => {
  it("records the doctor's no-show and the patient's 40-minute wait, whatever the delivery order; the appointment is CANCELLED, not NO_SHOW", async () => {
    const runs = fc.sample(fc.tuple(fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }), fc.array(fc.nat(3), { maxLength: 4 })), { numRuns: 5, seed: 27 });
    const bookings = [];
    for (const [order, duplicates] of runs) {
      const b = await pastBooking();
      const webhooks = waits(b, "patient", 0, 40);
      for (const i of [...order, ...duplicates]) expect(await api.webhook(webhooks[i])).toBe(200);
      bookings.push(b);
    }
    const patientStream = subscribe(api.url, await api.tokenFor(bookings[0]!.patient.user.id), NoShowEventsDocument, { consultationId: bookings[0]!.id, after: encodeEventId(0) });
    await patientStream.waitFor(2);
    await api.api.reconciler.runOnce();
    for (const b of bookings) {
      expect(await state(b.id)).toMatchObject({
        status: "CANCELLED",
        endReason: "NO_SHOW",
        appointment: { status: "CANCELLED" },
        noShow: { absent: "DOCTOR", waitedSeconds: 2400 },
      });
    }
    // The patient's app is told, live.
    await expect.poll(() => patientStream.results.map((r) => r.consultationEvents).find((e) => e.type === "NO_SHOW"), { timeout: 10_000 })
      .toEqual(expect.objectContaining({ noShow: { absent: "DOCTOR", waitedSeconds: 2400 } }));
    await patientStream.dispose();
  }, 60_000);

  it("makes the appointment NO_SHOW when the patient never came, and says how long the doctor waited", async () => {
    const b = await pastBooking();
    for (const w of waits(b, "doctor", 2, 17)) expect(await api.webhook(w)).toBe(200);
    await api.api.reconciler.runOnce();
    const c = await state(b.id);
    expect(c).toMatchObject({ status: "CANCELLED", endReason: "NO_SHOW", appointment: { status: "NO_SHOW" }, noShow: { absent: "PATIENT", waitedSeconds: 900 } });
    expect(c!.events.edges.map((e) => e.node.type)).toContain("NO_SHOW");
  });

  it("ends the room for a patient still waiting when the window closes: told the call ended, and why", async () => {
    hms.configureWebhooks({ url: `${api.url}/webhooks/100ms`, headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET } });
    const b = await pastBooking();
    await hms.joinPeer(b.roomId, { userId: b.patient.user.id, role: "patient", name: "patient" }, { at: new Date(b.scheduledAt.getTime() + 2 * 60_000) });
    await expect.poll(async () => (await state(b.id))!.waiting?.role, { timeout: 10_000 }).toBe("PATIENT");
    await api.api.reconciler.runOnce();
    // 100ms reports the room ended by the API and the patient removed with the API's reason.
    await expect.poll(async () => (await state(b.id))!.participants.find((p) => p.role === "PATIENT")?.leftReason, { timeout: 10_000 }).toBe("CALL_ENDED");
    const c = (await state(b.id))!;
    expect(c).toMatchObject({ status: "CANCELLED", endReason: "NO_SHOW", appointment: { status: "CANCELLED" }, noShow: { absent: "DOCTOR", waitedSeconds: 88 * 60 }, waiting: null });
    expect(c.participants.find((p) => p.role === "PATIENT")!.leftReasonDetail).toBe("The doctor could not join; the consultation was cancelled");
  });

  it("records BOTH when nobody came, and nothing for another user", async () => {
    const b = await pastBooking();
    await api.api.reconciler.runOnce();
    expect(await state(b.id)).toMatchObject({ appointment: { status: "NO_SHOW" }, noShow: { absent: "BOTH", waitedSeconds: 0 } });
    const intruder = await createCareTeam(test.database.db);
    expect(await state(b.id, await api.tokenFor(intruder.patient.user.id))).toBeNull();
  });

  it("is no no-show when both came at different times and never met: cancelled, not billed to the patient", async () => {
    const b = await pastBooking();
    for (const w of [...waits(b, "patient", 0, 10), ...waits(b, "doctor", 20, 30)]) expect(await api.webhook(w)).toBe(200);
    await api.api.reconciler.runOnce();
    expect(await state(b.id)).toMatchObject({ status: "CANCELLED", endReason: "NO_SHOW", appointment: { status: "CANCELLED" }, noShow: null });
  });
});
