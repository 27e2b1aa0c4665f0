/**
 * Prescriptions during the call: written by the consultation's doctor only, in the clinic's
 * table and legacy shape, pushed to the patient's subscription, idempotent on retry, and
 * every refusal in the audit trail.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { prescriptions, videoConsultations } from "../../src/db/schema.js";
import {
  AuditTrailDocument,
  ConsultationDocument,
  ConsultationEventsDocument,
  CreatePrescriptionDocument,
  type CreatePrescriptionInput,
} from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createConsultation, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { codeOf } from "../support/hms-env.js";
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

async function activeCall(status: "active" | "completed" | "pending" = "active", endedAt: Date | null = null) {
  const t = await createCareTeam(test.database.db);
  await test.database.db
    .update(videoConsultations)
    .set({ status, startedAt: status === "pending" ? null : new Date(Date.now() - 600_000), endedAt })
    .where(eq(videoConsultations.id, t.consultation.id));
  return {
    ...t,
    doctorToken: await api.tokenFor(t.doctor.user.id),
    patientToken: await api.tokenFor(t.patient.user.id),
  };
}

const input = (consultationId: string, extra: Partial<CreatePrescriptionInput> = {}): CreatePrescriptionInput => ({
  consultationId,
  medications: [
    { name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", durationDays: 7 },
    { name: "Ibuprofen", dosage: "200 mg", frequency: "as needed", instructions: "with food" },
  ],
  diagnosis: "Otitis media",
  ...extra,
});

async function trail(consultationId: string) {
  await api.api.services.audit.flush();
  const result = await api.gql(AuditTrailDocument, { filter: { consultationId }, first: 100 }, adminToken);
  expect(result.errors).toBeUndefined();
  return result.data!.auditEvents.edges.map((e) => e.node);
}

describe("createPrescription", () => {
  it("is written during an ACTIVE call, in the legacy table and shape, and reaches the patient's subscription", async () => {
    const call = await activeCall();
    const patientView = subscribe(api.url, call.patientToken, ConsultationEventsDocument, { consultationId: call.consultation.id });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const created = await api.gql(CreatePrescriptionDocument, { input: input(call.consultation.id) }, call.doctorToken);
    expect(created.errors).toBeUndefined();
    const p = created.data!.createPrescription;
    expect(p).toMatchObject({
      diagnosis: "Otitis media",
      consultation: { id: call.consultation.id },
      doctor: { id: call.doctor.doctor.id },
      patient: { id: call.patient.patient.id },
    });
    const [row] = await test.database.db.select().from(prescriptions).where(eq(prescriptions.id, p.id));
    expect(row).toMatchObject({
      appointmentId: call.appointment.id,
      consultationId: call.consultation.id,
      doctorId: call.doctor.doctor.id,
      patientId: call.patient.patient.id,
      medications: [
        { name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", duration_days: 7 },
        { name: "Ibuprofen", dosage: "200 mg", frequency: "as needed", instructions: "with food" },
      ],
    });
    const [event] = await patientView.waitFor(1);
    expect(event!.consultationEvents).toMatchObject({ type: "PRESCRIPTION_CREATED", status: "ACTIVE" });
    await patientView.dispose();
    const read = await api.gql(ConsultationDocument, { id: call.consultation.id }, call.patientToken);
    expect(read.data?.consultation?.prescriptions.map((x) => x.id)).toEqual([p.id]);
  });

  it("returns the first prescription for a repeated idempotencyKey, also under concurrency", async () => {
    const call = await activeCall();
    const attempts = await Promise.all(
      Array.from({ length: 4 }, () =>
        api.gql(CreatePrescriptionDocument, { input: input(call.consultation.id, { idempotencyKey: "retry-1" }) }, call.doctorToken),
      ),
    );
    const ids = new Set(attempts.map((a) => a.data?.createPrescription.id));
    expect(ids.size).toBe(1);
    const rows = await test.database.db.select().from(prescriptions).where(eq(prescriptions.consultationId, call.consultation.id));
    expect(rows).toHaveLength(1);
  });

  it("is allowed after COMPLETED within the window, refused after it, and refused before the call", async () => {
    const recent = await activeCall("completed", new Date(Date.now() - 3_600_000));
    expect((await api.gql(CreatePrescriptionDocument, { input: input(recent.consultation.id) }, recent.doctorToken)).errors).toBeUndefined();
    const old = await activeCall("completed", new Date(Date.now() - 25 * 3_600_000));
    expect(codeOf(await api.gql(CreatePrescriptionDocument, { input: input(old.consultation.id) }, old.doctorToken))).toBe("INVALID_STATE");
    const pending = await activeCall("pending");
    expect(codeOf(await api.gql(CreatePrescriptionDocument, { input: input(pending.consultation.id) }, pending.doctorToken))).toBe(
      "INVALID_STATE",
    );
    expect((await trail(old.consultation.id)).map((e) => [e.action, e.outcome])).toContainEqual(["prescription.create", "DENIED"]);
  });

  it("refuses the patient, another doctor and an admin, and records each refusal", async () => {
    const call = await activeCall();
    const other = await activeCall();
    expect(codeOf(await api.gql(CreatePrescriptionDocument, { input: input(call.consultation.id) }, call.patientToken))).toBe("FORBIDDEN");
    expect(codeOf(await api.gql(CreatePrescriptionDocument, { input: input(call.consultation.id) }, other.doctorToken))).toBe("NOT_FOUND");
    expect(codeOf(await api.gql(CreatePrescriptionDocument, { input: input(call.consultation.id) }, adminToken))).toBe("FORBIDDEN");
    const denied = (await trail(call.consultation.id)).filter((e) => e.outcome === "DENIED");
    expect(denied.map((e) => [e.action, e.actorRole, e.actorId])).toEqual(
      expect.arrayContaining([
        ["prescription.create", "patient", call.patient.user.id],
        ["prescription.create", "doctor", other.doctor.user.id],
        ["prescription.create", "admin", expect.any(String)],
      ]),
    );
    const rows = await test.database.db.select().from(prescriptions).where(eq(prescriptions.consultationId, call.consultation.id));
    expect(rows).toHaveLength(0);
  });

  it("rejects invalid input with the field's path and writes nothing", async () => {
    const call = await activeCall();
    const bad = await api.gql(
      CreatePrescriptionDocument,
      { input: input(call.consultation.id, { medications: [{ name: "X", dosage: " ", frequency: "daily", durationDays: 400 }] }) },
      call.doctorToken,
    );
    expect(bad.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "input.medications[0].durationDays" });
    const none = await api.gql(CreatePrescriptionDocument, { input: input(call.consultation.id, { medications: [] }) }, call.doctorToken);
    expect(none.errors?.[0]?.extensions?.field).toBe("input.medications");
    const rows = await test.database.db.select().from(prescriptions).where(eq(prescriptions.consultationId, call.consultation.id));
    expect(rows).toHaveLength(0);
  });
});

describe("auditEvents", () => {
  it("is for admins only", async () => {
    const call = await activeCall();
    expect(codeOf(await api.gql(AuditTrailDocument, { first: 5 }, call.doctorToken))).toBe("FORBIDDEN");
    expect(codeOf(await api.gql(AuditTrailDocument, { first: 5 }, null))).toBe("UNAUTHENTICATED");
  });

  it("records reads once per request and consultation, and denied reads of someone else's", async () => {
    const call = await activeCall();
    const other = await activeCall();
    await api.gql(ConsultationDocument, { id: call.consultation.id }, call.patientToken);
    await api.gql(ConsultationDocument, { id: call.consultation.id }, other.patientToken);
    const events = await trail(call.consultation.id);
    expect(events.map((e) => [e.action, e.actorId, e.outcome])).toEqual([
      ["consultation.read", other.patient.user.id, "DENIED"],
      ["consultation.read", call.patient.user.id, "ALLOWED"],
    ]);
    expect(events[1]).toMatchObject({ patientId: call.patient.patient.id, clientIp: expect.any(String), requestId: expect.any(String) });
  });

  it("cannot be changed or deleted, even with direct SQL", async () => {
    const { consultation } = await createConsultation(test.database.db, {
      doctorId: (await activeCall()).doctor.doctor.id,
      patientId: (await activeCall()).patient.patient.id,
    });
    await api.gql(ConsultationDocument, { id: consultation.id }, adminToken);
    await api.api.services.audit.flush();
    await expect(test.exec(`UPDATE audit_events SET action = 'x'`)).rejects.toThrow(/append-only/);
    await expect(test.exec(`DELETE FROM audit_events`)).rejects.toThrow(/append-only/);
    await expect(test.exec(`TRUNCATE audit_events`)).rejects.toThrow(/append-only/);
  });
});
