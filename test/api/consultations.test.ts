/**
 * consultations(filter, first, after) and the consultation graph, over real HTTP: order,
 * cursor pagination, filters, the `first` cap, prescriptions from the legacy table, and a
 * statement count that does not grow with the page size.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AppointmentConsultationDocument, ConsultationDocument, ConsultationsDocument } from "../gql/graphql.js";
import { createRepos } from "../../src/app/repos.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createConsultation, createDoctor, createPatient, createPrescription } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let queries = 0;
let test: TestDatabase;
let api: TestApi;
let doctorToken: string;
let doctorId: string;
const DAY = 86_400_000;
const base = new Date("2026-12-01T09:00:00.000Z").getTime();

beforeAll(async () => {
  test = await createTestDatabase({ onQuery: () => void queries++ });
  api = await startTestApi(test);
  const db = test.database.db;
  const doctor = await createDoctor(db, { specialty: "Cardiology" });
  doctorId = doctor.doctor.id;
  doctorToken = await api.tokenFor(doctor.user.id);
  // 60 consultations with 60 different patients, inserted in a shuffled order.
  const offsets = Array.from({ length: 60 }, (_, i) => (i * 37) % 60);
  for (const offset of offsets) {
    const patient = await createPatient(db);
    await createConsultation(db, {
      doctorId,
      patientId: patient.patient.id,
      scheduledAt: new Date(base + offset * DAY),
      status: offset % 3 === 0 ? "completed" : "pending",
    });
  }
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

async function page(variables: Parameters<TestApi["gql"]>[1] & object) {
  const result = await api.gql(ConsultationsDocument, variables as never, doctorToken);
  expect(result.errors).toBeUndefined();
  return result.data!.consultations;
}

describe("consultations", () => {
  it("orders by appointment time, soonest first, and pages with cursors without gaps or repeats", async () => {
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const p = await page({ first: 25, after });
      seen.push(...p.edges.map((e) => e.node.appointment.scheduledAt));
      after = p.pageInfo.hasNextPage ? p.pageInfo.endCursor! : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(seen).toHaveLength(60);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(60);
  });

  it("filters by status and by appointment time window", async () => {
    const completed = await page({ first: 100, filter: { status: ["COMPLETED"] } });
    expect(completed.edges).toHaveLength(20);
    expect(completed.edges.every((e) => e.node.status === "COMPLETED")).toBe(true);
    const window = await page({
      first: 100,
      filter: { from: new Date(base + 10 * DAY).toISOString(), to: new Date(base + 20 * DAY).toISOString() },
    });
    expect(window.edges).toHaveLength(10);
    expect(window.edges[0]?.node.appointment.scheduledAt).toBe(new Date(base + 10 * DAY).toISOString());
  });

  it("refuses a page size above the cap and a cursor it did not issue", async () => {
    const tooMany = await api.gql(ConsultationsDocument, { first: 101 }, doctorToken);
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    const negative = await api.gql(ConsultationsDocument, { first: -1 }, doctorToken);
    expect(negative.errors?.[0]?.extensions?.code).toBe("BAD_USER_INPUT");
    const forged = await api.gql(ConsultationsDocument, { first: 5, after: "bm9wZQ" }, doctorToken);
    expect(forged.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });

  it("issues the same number of SQL statements for 5 and for 50 consultations with their graph", async () => {
    const count = async (first: number) => {
      await api.api.services.audit.flush();
      const before = queries;
      const p = await page({ first });
      await api.api.services.audit.flush(); // its audit insert is counted every time, not when it happens to land
      expect(p.edges).toHaveLength(first);
      expect(p.edges.every((e) => e.node.participants.length === 2 && e.node.patient.fullName)).toBe(true);
      return queries - before;
    };
    const small = await count(5);
    const large = await count(50);
    expect(large).toBe(small);
    // viewer lookup, page, doctors, patients: a handful, not one per row
    expect(large).toBeLessThanOrEqual(5);
  });
});

describe("consultation", () => {
  it("shows the doctor, patient, appointment, both participants offline, and prescriptions newest first", async () => {
    const db = test.database.db;
    const patient = await createPatient(db, { fullName: "Jo Tanaka" });
    const { appointment, consultation } = await createConsultation(db, { doctorId, patientId: patient.patient.id });
    const link = { appointmentId: appointment.id, consultationId: consultation.id, doctorId, patientId: patient.patient.id };
    const older = await createPrescription(db, { ...link, createdAt: new Date("2026-11-01T10:00:00Z") });
    const newer = await createPrescription(db, { ...link, createdAt: new Date("2026-11-02T10:00:00Z") }, [
      { name: "Cetirizine", dosage: "10 mg", frequency: "daily", instructions: "at night" },
    ]);

    const result = await api.gql(ConsultationDocument, { id: consultation.id }, doctorToken);
    expect(result.errors).toBeUndefined();
    const c = result.data!.consultation!;
    expect(c).toMatchObject({
      status: "PENDING",
      roomId: null,
      appointment: { id: appointment.id, durationMinutes: 30, status: "SCHEDULED" },
      doctor: { id: doctorId, specialty: "Cardiology" },
      patient: { id: patient.patient.id, fullName: "Jo Tanaka" },
      events: { edges: [], pageInfo: { hasNextPage: false, endCursor: null } },
    });
    expect(c.participants).toEqual([
      expect.objectContaining({ role: "DOCTOR", online: false, peerId: null }),
      { userId: patient.user.id, role: "PATIENT", fullName: "Jo Tanaka", online: false, peerId: null, joinedAt: null, leftAt: null },
    ]);
    expect(c.prescriptions.map((p) => p.id)).toEqual([newer.id, older.id]);
    expect(c.prescriptions[0]).toMatchObject({
      medications: [{ name: "Cetirizine", dosage: "10 mg", frequency: "daily", durationDays: null, instructions: "at night" }],
      doctor: { id: doctorId },
      patient: { id: patient.patient.id },
      consultation: { id: consultation.id },
    });
  });

  it("reaches the consultation back through its appointment", async () => {
    const first = (await page({ first: 1 })).edges[0]!.node;
    const result = await api.gql(AppointmentConsultationDocument, { id: first.id }, doctorToken);
    expect(result.data?.consultation?.appointment.consultation).toEqual({ id: first.id, status: first.status });
  });
});

describe("the list's packed rows", () => {
  it("carry exactly the records the single-record reads return (types included)", async () => {
    const repos = createRepos(test.database.db);
    const doctor = await createDoctor(test.database.db);
    const patient = await createPatient(test.database.db);
    const { consultation } = await createConsultation(test.database.db, { doctorId: doctor.doctor.id, patientId: patient.patient.id });
    await repos.live.saveMany([{ consultationId: consultation.id, timeline: {
      sides: {
        doctor: { online: true, peerId: "peer-d", joinedAt: new Date("2026-11-24T10:00:00.123Z"), leftAt: null },
        patient: { online: false, peerId: null, joinedAt: null, leftAt: null },
      },
      leftReasons: { doctor: null, patient: "websocket closed" },
      connectedMs: 2 ** 40,
      bothSince: null,
    } as never, reconnects: { until: { doctor: null, patient: new Date("2026-11-24T10:01:00.456Z") }, expired: [], nextDeadline: null } }]);
    const viewer = { userId: doctor.user.id, role: "doctor" as const, doctorId: doctor.doctor.id, patientId: null };
    const [row] = await repos.consultations.listVisible(viewer, { limit: 10 });
    expect(row!.consultation).toEqual((await repos.consultations.byIds([consultation.id]))[0]);
    expect(row!.appointment).toEqual((await repos.clinic.appointmentsByIds([row!.consultation.appointmentId]))[0]);
    expect(row!.doctor).toEqual((await repos.clinic.doctorsByIds([doctor.doctor.id]))[0]);
    expect(row!.patient).toEqual((await repos.clinic.patientsByIds([patient.patient.id]))[0]);
    expect(row!.live).toEqual((await repos.live.byConsultationIds([consultation.id]))[0]);
    expect(row!.live!.doctorJoinedAt).toBeInstanceOf(Date);
    expect(row!.live!.connectedMs).toBe(2 ** 40);
    expect(row!.appointment.scheduledAt).toBeInstanceOf(Date);
    // No presence yet: null, not a record of nulls.
    const other = await createConsultation(test.database.db, { doctorId: doctor.doctor.id, patientId: patient.patient.id });
    const rows = await repos.consultations.listVisible(viewer, { limit: 10 });
    expect(rows.find((r) => r.consultation.id === other.consultation.id)!.live).toBeNull();
  });
});
