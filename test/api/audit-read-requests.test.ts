/**
 * A request's reads are one audit record, whatever their number: a 50-row dashboard page
 * writes one row listing the 50 consultations (and their patients) in the page's order, and
 * the admin's trail still shows one event per consultation read, each with its consultation
 * and patient. `consultation_ids` has a GIN index that a one-consultation trail uses.
 */
import { sql } from "drizzle-orm";
import { drizzle } from "drizzle-orm/postgres-js";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditRepo } from "../../src/audit/audit.repo.js";
import * as schema from "../../src/db/schema.js";
import { AuditTrailDocument, ConsultationsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createConsultation, createDoctor, createPatient, createUser } from "../support/builders.js";
import { createTestDatabase, serverUrl, type TestDatabase, NEEDS_POSTGRES } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
let doctorUserId: string;
let doctorToken: string;
let adminToken: string;
/** consultation id -> patient id, for the doctor's 60 consultations. */
const patientOf = new Map<string, string>();

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  const db = test.database.db;
  const doctor = await createDoctor(db);
  doctorUserId = doctor.user.id;
  doctorToken = await api.tokenFor(doctor.user.id);
  adminToken = await api.tokenFor((await createUser(db, "admin")).id);
  for (let i = 0; i < 60; i++) {
    const patient = await createPatient(db);
    const { consultation } = await createConsultation(db, { doctorId: doctor.doctor.id, patientId: patient.patient.id, scheduledAt: new Date(Date.UTC(2026, 11, 1) + i * 3_600_000) });
    patientOf.set(consultation.id, patient.patient.id);
  }
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

interface ReadRecord {
  consultation_id: string | null;
  consultation_ids: string[] | null;
  patient_ids: string[] | null;
}

async function readRecordsOf(actorId: string): Promise<ReadRecord[]> {
  return test.database.rows<ReadRecord>(
    sql`select consultation_id, consultation_ids::text[] as consultation_ids, patient_ids::text[] as patient_ids
        from audit_events where action = 'consultation.read' and actor_id = ${actorId} order by id`,
  );
}

describe("a dashboard page of 50 consultations", () => {
  it("writes one audit row listing the 50, in the page's order, each with its patient", async () => {
    const page = await api.gql(ConsultationsDocument, { first: 50 }, doctorToken);
    expect(page.errors).toBeUndefined();
    const ids = page.data!.consultations.edges.map((e) => e.node.id);
    expect(ids).toHaveLength(50);
    await api.api.services.audit.flush();

    const records = await readRecordsOf(doctorUserId);
    expect(records).toHaveLength(1);
    expect(records[0]).toEqual({ consultation_id: null, consultation_ids: ids, patient_ids: ids.map((id) => patientOf.get(id)) });
  });

  it("still shows, for each consultation, one event per request that read it, with consultation and patient", async () => {
    const read = await api.gql(ConsultationsDocument, { first: 10 }, doctorToken);
    const ids = read.data!.consultations.edges.map((e) => e.node.id);
    await api.api.services.audit.flush();
    // The first 10 were read by both pages (this one and the test's before); the 11th only by the first.
    const eleventh = (await api.gql(ConsultationsDocument, { first: 11 }, doctorToken)).data!.consultations.edges[10]!.node.id;
    await api.api.services.audit.flush();

    for (const [id, reads] of [[ids[3]!, 3], [eleventh, 2]] as const) {
      const trail = await api.gql(AuditTrailDocument, { filter: { consultationId: id }, first: 10 }, adminToken);
      expect(trail.errors).toBeUndefined();
      const events = trail.data!.auditEvents.edges.map((e) => e.node);
      expect(events).toHaveLength(reads);
      for (const event of events) {
        expect(event).toMatchObject({ action: "consultation.read", actorId: doctorUserId, actorRole: "doctor", consultationId: id, patientId: patientOf.get(id), outcome: "ALLOWED" });
        expect(event.requestId).toBeTruthy();
      }
      expect(new Set(events.map((e) => e.requestId)).size).toBe(reads);
      expect(new Set(events.map((e) => e.id)).size).toBe(reads);
    }
  });

  it("lists a request's record as one event per consultation in the unfiltered trail, in reverse page order", async () => {
    const reader = await createDoctor(test.database.db);
    const [first, second] = patientOf.values();
    const { consultation } = await createConsultation(test.database.db, { doctorId: reader.doctor.id, patientId: first!, scheduledAt: new Date(Date.UTC(2026, 11, 1)) });
    const other = await createConsultation(test.database.db, { doctorId: reader.doctor.id, patientId: second!, scheduledAt: new Date(Date.UTC(2026, 11, 2)) });
    const token = await api.tokenFor(reader.user.id);
    const ids = (await api.gql(ConsultationsDocument, { first: 5 }, token)).data!.consultations.edges.map((e) => e.node.id);
    expect(ids).toEqual([consultation.id, other.consultation.id]);
    await api.api.services.audit.flush();
    const trail = await api.gql(AuditTrailDocument, { first: 2 }, adminToken);
    expect(trail.data!.auditEvents.edges.map((e) => [e.node.actorId, e.node.consultationId])).toEqual([
      [reader.user.id, other.consultation.id],
      [reader.user.id, consultation.id],
    ]);
    const rest = await api.gql(AuditTrailDocument, { first: 1, after: trail.data!.auditEvents.pageInfo.endCursor }, adminToken);
    expect(rest.data!.auditEvents.edges[0]!.node.consultationId).not.toBe(consultation.id);
    expect(rest.data!.auditEvents.edges[0]!.node.actorId).toBe(doctorUserId);
  });
});

describe("a record of several consultations", () => {
  it.each([
    ["unpaired arrays", "'{00000000-0000-4000-8000-000000000001}', '{}'", "null"],
    ["an empty list", "'{}', '{}'", "null"],
    ["a consultation of its own besides", "'{00000000-0000-4000-8000-000000000001}', '{00000000-0000-4000-8000-000000000002}'", "'00000000-0000-4000-8000-000000000003'"],
  ])("is refused by the database with %s", async (_name, arrays, consultationId) => {
    await expect(
      test.exec(`insert into audit_events (action, outcome, consultation_ids, patient_ids, consultation_id) values ('consultation.read', 'allowed', ${arrays}, ${consultationId})`),
    ).rejects.toThrow(/audit_events_subjects_check/);
  });
});

describe("the index on consultation_ids", () => {
  it("exists, as GIN", async () => {
    const [index] = await test.database.rows<{ indexdef: string }>(
      sql`select indexdef from pg_indexes where tablename = 'audit_events' and indexname = 'audit_events_consultation_ids_idx'`,
    );
    expect(index?.indexdef).toMatch(/USING gin \(consultation_ids\)/);
  });

  it.runIf(Boolean(serverUrl()))(
    `is what a one-consultation trail reads through, over a trail of thousands of requests${NEEDS_POSTGRES}`,
    async () => {
      await test.exec(`
        insert into audit_events (action, outcome, consultation_ids, patient_ids)
        select 'consultation.read', 'allowed', array_agg(gen_random_uuid()), array_agg(gen_random_uuid())
        from generate_series(1, 5000) r, generate_series(1, 20) c group by r`);
      // As autovacuum would: moves GIN's pending entries into the index proper, and counts the rows.
      await test.exec("vacuum analyze audit_events");
      const statements: Array<{ text: string; params: unknown[] }> = [];
      const client = postgres(test.url!, { max: 1, onnotice: () => {} });
      try {
        const db = drizzle(client, { schema, logger: { logQuery: (text, params) => void statements.push({ text, params }) } });
        await new AuditRepo(db).page({ consultationId: [...patientOf.keys()][0]!, limit: 51 });
        const { text, params } = statements.at(-1)!;
        const plan = await client.unsafe(`explain ${text}`, params as never[]);
        expect(plan.map((line) => line["QUERY PLAN"]).join("\n")).toContain("audit_events_consultation_ids_idx");
      } finally {
        await client.end();
      }
    },
  );
});
