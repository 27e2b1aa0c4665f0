/**
 * Starting, joining, ending and cancelling over real HTTP, against the 100ms stand-in:
 * the room as 100ms sees it, the tokens each side gets, and who may do what.
 */
import { eq } from "drizzle-orm";
import { jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consultationClosures, videoConsultations } from "../../src/db/schema.js";
import {
  CancelConsultationDocument,
  EndConsultationDocument,
  JoinConsultationDocument,
  StartConsultationDocument,
} from "../gql/graphql.js";
import type { TestApi } from "../support/api.js";
import { createAppointment, createCareTeam, createConsultation, createUser } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { codeOf, HMS_CREDS, HMS_TEMPLATE, startVideoStack, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;
let adminToken: string;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack());
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await stop?.();
});

const team = () => videoBooking(test, api);
const secret = new TextEncoder().encode(HMS_CREDS.appSecret);

describe("a whole call: start, join both sides, end", () => {
  it("provisions one room, gives each side its own token, and ends and locks the room", async () => {
    const t = await team();
    const started = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.patientToken);
    expect(started.errors).toBeUndefined();
    const consultation = started.data!.startConsultation;
    expect(consultation.status).toBe("PENDING");
    const room = hms.rooms.get(consultation.roomId!);
    expect(room).toMatchObject({
      name: `consultation-${consultation.id}`,
      templateId: HMS_TEMPLATE,
      size: 2,
      maxDurationSeconds: (30 + 30) * 60,
      enabled: true,
    });
    expect(`${room!.name} ${room!.description}`).not.toContain(t.patient.user.fullName);

    const doctorJoin = await api.gql(JoinConsultationDocument, { consultationId: consultation.id }, t.doctorToken);
    const patientJoin = await api.gql(JoinConsultationDocument, { consultationId: consultation.id }, t.patientToken);
    expect(doctorJoin.data?.joinConsultation).toMatchObject({ role: "DOCTOR", roomId: room!.id, userId: t.doctor.user.id });
    expect(patientJoin.data?.joinConsultation).toMatchObject({ role: "PATIENT", roomId: room!.id, userId: t.patient.user.id });
    const { payload } = await jwtVerify(patientJoin.data!.joinConsultation.token, secret, { algorithms: ["HS256"] });
    expect(payload).toMatchObject({
      access_key: HMS_CREDS.accessKey,
      type: "app",
      version: 2,
      room_id: room!.id,
      user_id: t.patient.user.id,
      role: "patient",
    });
    // Bounded by the join window (booked end + JOIN_GRACE), not a blanket 24 h.
    const windowEnd = Math.floor((t.appointment.scheduledAt.getTime() + (30 + 60) * 60_000) / 1000);
    expect(Math.abs(payload.exp! - windowEnd)).toBeLessThanOrEqual(1);
    expect(payload.exp).toBe(new Date(patientJoin.data!.joinConsultation.expiresAt).getTime() / 1000);

    await hms.joinPeer(room!.id, { userId: t.doctor.user.id, role: "doctor" });
    await hms.joinPeer(room!.id, { userId: t.patient.user.id, role: "patient" });

    const ended = await api.gql(EndConsultationDocument, { consultationId: consultation.id }, t.doctorToken);
    expect(ended.errors).toBeUndefined();
    expect(ended.data?.endConsultation).toMatchObject({ status: "COMPLETED", appointment: { status: "COMPLETED" } });
    expect(ended.data?.endConsultation.endedAt).not.toBeNull();
    expect(hms.rooms.get(room!.id)).toMatchObject({ enabled: false, session: null });
    expect(hms.calls.some((c) => c.path.endsWith("/end-room") && (c.body as { lock?: boolean }).lock === true)).toBe(true);

    const again = await api.gql(EndConsultationDocument, { consultationId: consultation.id }, t.doctorToken);
    expect(again.data?.endConsultation).toEqual(ended.data?.endConsultation);

    for (const token of [t.doctorToken, t.patientToken]) {
      const late = await api.gql(JoinConsultationDocument, { consultationId: consultation.id }, token);
      expect(codeOf(late)).toBe("INVALID_STATE");
    }
    const [row] = await test.database.db.select().from(videoConsultations).where(eq(videoConsultations.id, consultation.id));
    expect(row).toMatchObject({ status: "completed", doctorToken: null, patientToken: null });
  });

  it("writes window-bounded tokens to the legacy columns for older app versions", async () => {
    const t = await team();
    const started = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    const [row] = await test.database.db
      .select()
      .from(videoConsultations)
      .where(eq(videoConsultations.id, started.data!.startConsultation.id));
    const doctor = await jwtVerify(row!.doctorToken!, secret);
    const patient = await jwtVerify(row!.patientToken!, secret);
    const windowEnd = Math.floor((t.appointment.scheduledAt.getTime() + (30 + 60) * 60_000) / 1000);
    expect(doctor.payload).toMatchObject({ role: "doctor", user_id: t.doctor.user.id, exp: expect.any(Number) });
    expect(patient.payload).toMatchObject({ role: "patient", user_id: t.patient.user.id });
    expect(Math.abs(doctor.payload.exp! - windowEnd)).toBeLessThanOrEqual(1);
  });

  it("is idempotent under concurrency: simultaneous starts give one row and one room", async () => {
    const t = await team();
    const roomsBefore = hms.rooms.size;
    const results = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, i % 2 ? t.doctorToken : t.patientToken),
      ),
    );
    const ids = new Set(results.map((r) => r.data?.startConsultation.id));
    const roomIds = new Set(results.map((r) => r.data?.startConsultation.roomId));
    expect(results.flatMap((r) => r.errors ?? [])).toEqual([]); // on failure, the errors themselves
    expect(ids.size).toBe(1);
    expect(roomIds.size).toBe(1);
    expect(hms.rooms.size).toBe(roomsBefore + 1);
    const rows = await test.database.db.select().from(videoConsultations).where(eq(videoConsultations.appointmentId, t.appointment.id));
    expect(rows).toHaveLength(1);
  });

  it("keeps the room of a row the old client-side flow created", async () => {
    const t = await createCareTeam(test.database.db);
    await test.database.db.update(videoConsultations).set({ roomId: `legacy-${t.consultation.id}` }).where(eq(videoConsultations.id, t.consultation.id));
    const before = hms.calls.length;
    const result = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, adminToken);
    expect(result.data?.startConsultation).toMatchObject({ id: t.consultation.id, roomId: `legacy-${t.consultation.id}` });
    expect(hms.calls.length).toBe(before);
  });
});

describe("who may do what", () => {
  it("gives a join token only to the consultation's own doctor and patient", async () => {
    const mine = await team();
    const theirs = await team();
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: mine.appointment.id }, mine.doctorToken);
    const consultationId = data!.startConsultation.id;
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId }, theirs.patientToken))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId }, theirs.doctorToken))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId }, adminToken))).toBe("FORBIDDEN");
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId }, null))).toBe("UNAUTHENTICATED");
    expect(codeOf(await api.gql(EndConsultationDocument, { consultationId }, mine.patientToken))).toBe("FORBIDDEN");
    expect(codeOf(await api.gql(EndConsultationDocument, { consultationId }, theirs.doctorToken))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(CancelConsultationDocument, { consultationId }, theirs.patientToken))).toBe("NOT_FOUND");
  });

  it("lets only the appointment's doctor, patient or an admin start it, and only for video", async () => {
    const mine = await team();
    const theirs = await team();
    expect(codeOf(await api.gql(StartConsultationDocument, { appointmentId: mine.appointment.id }, theirs.doctorToken))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(StartConsultationDocument, { appointmentId: mine.appointment.id }, theirs.patientToken))).toBe("NOT_FOUND");
    const inPerson = await createAppointment(test.database.db, {
      doctorId: mine.doctor.doctor.id,
      patientId: mine.patient.patient.id,
      type: "in_person",
    });
    expect(codeOf(await api.gql(StartConsultationDocument, { appointmentId: inPerson.id }, mine.doctorToken))).toBe("BAD_USER_INPUT");
    const rows = await test.database.db.select().from(videoConsultations).where(eq(videoConsultations.appointmentId, inPerson.id));
    expect(rows).toHaveLength(0);
    expect((await api.gql(StartConsultationDocument, { appointmentId: mine.appointment.id }, adminToken)).errors).toBeUndefined();
  });
});

describe("the join window", () => {
  const scheduled = async (offsetMinutes: number, status: "pending" | "active" = "pending") => {
    const t = await team();
    const { consultation } = await createConsultation(test.database.db, {
      doctorId: t.doctor.doctor.id,
      patientId: t.patient.patient.id,
      scheduledAt: new Date(Date.now() + offsetMinutes * 60_000),
      status,
    });
    return { ...t, consultationId: consultation.id };
  };

  it("refuses tokens too early and after the grace period", async () => {
    const early = await scheduled(60);
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId: early.consultationId }, early.patientToken))).toBe("INVALID_STATE");
    const late = await scheduled(-(30 + 60 + 1));
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId: late.consultationId }, late.patientToken))).toBe("INVALID_STATE");
    const justOpen = await scheduled(14);
    expect((await api.gql(JoinConsultationDocument, { consultationId: justOpen.consultationId }, justOpen.patientToken)).errors).toBeUndefined();
  });

  it("still lets a side rejoin an ACTIVE call that overran its window, with a short token", async () => {
    const overrun = await scheduled(-(30 + 60 + 5), "active");
    const result = await api.gql(JoinConsultationDocument, { consultationId: overrun.consultationId }, overrun.doctorToken);
    expect(result.errors).toBeUndefined();
    const ttl = new Date(result.data!.joinConsultation.expiresAt).getTime() - Date.now();
    expect(ttl).toBeGreaterThan(10 * 60_000);
    expect(ttl).toBeLessThanOrEqual(15 * 60_000);
  });
});

describe("cancelling", () => {
  it("cancels a PENDING consultation: appointment cancelled, room disabled, reason kept, no token after", async () => {
    const t = await team();
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.patientToken);
    const { id, roomId } = data!.startConsultation;
    const cancelled = await api.gql(CancelConsultationDocument, { consultationId: id, reason: "Feeling better" }, t.patientToken);
    expect(cancelled.data?.cancelConsultation).toMatchObject({ status: "CANCELLED", endedAt: null, appointment: { status: "CANCELLED" } });
    expect(hms.rooms.get(roomId!)?.enabled).toBe(false);
    const [closure] = await test.database.db.select().from(consultationClosures).where(eq(consultationClosures.consultationId, id));
    expect(closure).toMatchObject({ outcome: "cancelled", closedByUserId: t.patient.user.id, reason: "Feeling better" });
    expect((await api.gql(CancelConsultationDocument, { consultationId: id }, t.doctorToken)).data?.cancelConsultation.status).toBe("CANCELLED");
    expect(codeOf(await api.gql(JoinConsultationDocument, { consultationId: id }, t.patientToken))).toBe("INVALID_STATE");
    expect(codeOf(await api.gql(EndConsultationDocument, { consultationId: id }, t.doctorToken))).toBe("INVALID_STATE");
  });

  it("refuses to cancel an ACTIVE or COMPLETED consultation, and rejects an overlong reason", async () => {
    for (const status of ["active", "completed"] as const) {
      const t = await team();
      const { consultation } = await createConsultation(test.database.db, {
        doctorId: t.doctor.doctor.id,
        patientId: t.patient.patient.id,
        status,
      });
      expect(codeOf(await api.gql(CancelConsultationDocument, { consultationId: consultation.id }, adminToken))).toBe("INVALID_STATE");
    }
    const t = await team();
    const { consultation } = await createConsultation(test.database.db, { doctorId: t.doctor.doctor.id, patientId: t.patient.patient.id });
    const long = await api.gql(CancelConsultationDocument, { consultationId: consultation.id, reason: "x".repeat(501) }, adminToken);
    expect(long.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "reason" });
  });
});
