/** Ids that are not UUIDs and SQL-looking strings, in every argument that takes one. */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consultationClosures, prescriptions, videoConsultations } from "../../src/db/schema.js";
import {
  AuditTrailDocument,
  CancelConsultationDocument,
  ConsultationDocument,
  ConsultationsDocument,
  CreatePrescriptionDocument,
  EndConsultationDocument,
  JoinConsultationDocument,
  StartConsultationDocument,
} from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { codeOf } from "../support/hms-env.js";

let test: TestDatabase;
let api: TestApi;
let admin: string;
const NASTY = ["1 OR 1=1", "'; DROP TABLE users; --", "00000000-0000-0000-0000-00000000000g", "../../etc/passwd", "", "ｘ"];
const SQLISH = "Robert'); DROP TABLE prescriptions;-- \\\\ %_ $1 \u0000? ";

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  admin = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

describe("ids that are not UUIDs", () => {
  it.each(NASTY)("are BAD_USER_INPUT everywhere: %j", async (id) => {
    const results = await Promise.all([
      api.gql(ConsultationDocument, { id }, admin),
      api.gql(StartConsultationDocument, { appointmentId: id }, admin),
      api.gql(JoinConsultationDocument, { consultationId: id }, admin),
      api.gql(EndConsultationDocument, { consultationId: id }, admin),
      api.gql(CancelConsultationDocument, { consultationId: id }, admin),
      api.gql(CreatePrescriptionDocument, { input: { consultationId: id, medications: [{ name: "a", dosage: "b", frequency: "c" }] } }, admin),
      api.gql(AuditTrailDocument, { filter: { consultationId: id } }, admin),
      api.gql(ConsultationsDocument, { after: id }, admin),
    ]);
    for (const result of results) expect(codeOf(result)).toBe("BAD_USER_INPUT");
  });
});

describe("SQL-looking text", () => {
  it("is stored and returned literally, never executed", async () => {
    const team = await createCareTeam(test.database.db);
    await test.database.db.update(videoConsultations).set({ status: "active", startedAt: new Date() }).where(eq(videoConsultations.id, team.consultation.id));
    const doctor = await api.tokenFor(team.doctor.user.id);
    const text = SQLISH.replace("\u0000", ""); // PostgreSQL text cannot hold NUL: see below
    const created = await api.gql(
      CreatePrescriptionDocument,
      { input: { consultationId: team.consultation.id, medications: [{ name: text, dosage: text, frequency: text, instructions: text }], diagnosis: text, notes: text, idempotencyKey: "k'--" } },
      doctor,
    );
    expect(created.errors).toBeUndefined();
    expect(created.data?.createPrescription.medications[0]?.name).toBe(text.trim());
    const [row] = await test.database.db.select().from(prescriptions).where(eq(prescriptions.consultationId, team.consultation.id));
    expect(row?.diagnosis).toBe(text.trim());

    const other = await createCareTeam(test.database.db);
    const cancelled = await api.gql(CancelConsultationDocument, { consultationId: other.consultation.id, reason: text }, admin);
    expect(cancelled.errors).toBeUndefined();
    const [closure] = await test.database.db.select().from(consultationClosures).where(eq(consultationClosures.consultationId, other.consultation.id));
    expect(closure?.reason).toBe(text.trim());
  });

  it("with a NUL character is refused cleanly, not with an internal error", async () => {
    const other = await createCareTeam(test.database.db);
    const result = await api.gql(CancelConsultationDocument, { consultationId: other.consultation.id, reason: SQLISH }, admin);
    expect(codeOf(result)).toBe("BAD_USER_INPUT");
  });
});
