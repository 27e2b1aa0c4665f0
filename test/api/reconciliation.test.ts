/**
 * Whole calls driven through the 100ms stand-in (its webhooks go to the API over HTTP), and
 * reconciliation repairing what lost webhooks left wrong, from the stand-in's active peers.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { ConsultationTimelineDocument, EndConsultationDocument, StartConsultationDocument } from "../gql/graphql.js";
import { TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createConsultation, createUser } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { startVideoStack, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;
let adminToken: string;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack({ COMPLETION_GRACE_SECONDS: "1" }));
  hms.configureWebhooks({
    url: `${api.url}/webhooks/100ms`,
    headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
    retryDelaysMs: [50, 100, 200],
  });
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await stop?.();
});

async function startedCall() {
  const t = await videoBooking(test, api);
  const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
  return { ...t, consultationId: data!.startConsultation.id, roomId: data!.startConsultation.roomId! };
}

async function state(id: string) {
  const result = await api.gql(ConsultationTimelineDocument, { id, first: 100 }, adminToken);
  return result.data!.consultation!;
}
const online = async (id: string) => (await state(id)).participants.map((p) => `${p.role}:${p.online}`);

describe("a whole call through the stand-in", () => {
  it("patient waits, doctor joins, the doctor ends it for both: every screen sees it", async () => {
    const call = await startedCall();
    await hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" });
    await hms.flushWebhooks();
    await api.settled();
    expect(await online(call.consultationId)).toEqual(["DOCTOR:false", "PATIENT:true"]);
    expect((await state(call.consultationId)).status).toBe("PENDING");

    await hms.joinPeer(call.roomId, { userId: call.doctor.user.id, role: "doctor" });
    await hms.flushWebhooks();
    await api.settled();
    expect((await state(call.consultationId)).status).toBe("ACTIVE");

    const ended = await api.gql(EndConsultationDocument, { consultationId: call.consultationId }, call.doctorToken);
    expect(ended.data?.endConsultation.status).toBe("COMPLETED");
    await hms.flushWebhooks();
    await api.settled();
    const final = await state(call.consultationId);
    expect(final.participants.every((p) => !p.online)).toBe(true);
    expect(final.events.edges.map((e) => e.node.type)).toEqual([
      "PARTICIPANT_JOINED",
      "PARTICIPANT_JOINED",
      "STATUS_CHANGED",
      "STATUS_CHANGED",
      "PARTICIPANT_LEFT",
      "PARTICIPANT_LEFT",
    ]);
    expect(hms.webhookDeliveries.every((d) => d.status === 200)).toBe(true);
  });
});

describe("reconciliation", () => {
  it("repairs a missed leave from 100ms's active peers, writing the event a webhook would have", async () => {
    const call = await startedCall();
    const peer = await hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" });
    await hms.flushWebhooks();
    await api.settled();
    hms.dropNextWebhooks(2); // the leave and the session close are lost
    await hms.leavePeer(call.roomId, peer.id);
    await hms.flushWebhooks();
    await api.settled();
    expect(await online(call.consultationId)).toEqual(["DOCTOR:false", "PATIENT:true"]);

    const report = await api.api.reconciler.runOnce();
    expect(report.corrections).toBe(1);
    expect(await online(call.consultationId)).toEqual(["DOCTOR:false", "PATIENT:false"]);
    const types = (await state(call.consultationId)).events.edges.map((e) => e.node.type);
    expect(types).toEqual(["PARTICIPANT_JOINED", "PARTICIPANT_LEFT"]);
    expect((await api.api.reconciler.runOnce()).corrections).toBe(0);
  });

  it("repairs a missed join", async () => {
    const call = await startedCall();
    await hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" });
    await hms.flushWebhooks();
    await api.settled();
    hms.dropNextWebhooks(1); // the doctor's join is lost
    await hms.joinPeer(call.roomId, { userId: call.doctor.user.id, role: "doctor" });
    await hms.flushWebhooks();
    await api.settled();
    expect(await online(call.consultationId)).toEqual(["DOCTOR:false", "PATIENT:true"]);
    await api.api.reconciler.runOnce();
    expect(await online(call.consultationId)).toEqual(["DOCTOR:true", "PATIENT:true"]);
    expect((await state(call.consultationId)).status).toBe("ACTIVE");
  });

  it("expires a PENDING consultation whose join window closed with nobody in it", async () => {
    const t = await videoBooking(test, api);
    const { consultation, appointment } = await createConsultation(test.database.db, {
      doctorId: t.doctor.doctor.id,
      patientId: t.patient.patient.id,
      scheduledAt: new Date(Date.now() - (30 + 60 + 5) * 60_000),
    });
    const report = await api.api.reconciler.runOnce();
    expect(report.expired).toBeGreaterThanOrEqual(1);
    const [row] = await test.database.db.select().from(videoConsultations).where(eq(videoConsultations.id, consultation.id));
    const [booking] = await test.database.db.select().from(appointments).where(eq(appointments.id, appointment.id));
    expect(row?.status).toBe("cancelled");
    expect(booking?.status).toBe("no_show");
    const events = (await state(consultation.id)).events.edges.map((e) => [e.node.type, e.node.previousStatus, e.node.status]);
    expect(events).toEqual([["STATUS_CHANGED", "PENDING", "CANCELLED"], ["NO_SHOW", null, "CANCELLED"]]);
  });

  it("completes an ACTIVE call once the grace period passed with nobody back", async () => {
    const call = await startedCall();
    const patient = await hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" });
    const doctor = await hms.joinPeer(call.roomId, { userId: call.doctor.user.id, role: "doctor" });
    await hms.flushWebhooks();
    await api.settled();
    await hms.leavePeer(call.roomId, doctor.id);
    await hms.leavePeer(call.roomId, patient.id);
    await hms.flushWebhooks();
    await api.settled();
    expect((await state(call.consultationId)).status).toBe("ACTIVE");
    await new Promise((resolve) => setTimeout(resolve, 1300));
    await api.api.reconciler.runOnce();
    const final = await state(call.consultationId);
    expect(final.status).toBe("COMPLETED");
    expect(final.endedAt).not.toBeNull();
    expect(hms.rooms.get(call.roomId)?.enabled).toBe(false);
  });
});
