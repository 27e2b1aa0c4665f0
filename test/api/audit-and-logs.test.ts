/**
 * A full call through the 100ms stand-in leaves a complete, ordered audit trail, and the
 * logs captured meanwhile (at debug level) hold no name, email, token, secret or medication.
 * A failing audit write is logged and counted, never silently dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditRepo } from "../../src/audit/audit.repo.js";
import { AuditWriter } from "../../src/audit/audit-writer.js";
import { entry, SYSTEM_ACTOR } from "../../src/audit/audit.model.js";
import { createLogger } from "../../src/kit/logger.js";
import {
  AuditTrailDocument,
  ConsultationDocument,
  CreatePrescriptionDocument,
  EndConsultationDocument,
  JoinConsultationDocument,
  StartConsultationDocument,
} from "../gql/graphql.js";
import { startTestApi, TEST_JWT_SECRET, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { HMS_CREDS, startHms, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
const logs: string[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
  const started = await startHms();
  hms = started.hms;
  api = await startTestApi(test, { ...started.env, LOG_LEVEL: "debug" }, { logs: { write: (line) => void logs.push(line) } });
  hms.configureWebhooks({ url: `${api.url}/webhooks/100ms`, headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }, retryDelaysMs: [50, 100, 200] });
});

afterAll(async () => {
  await api?.stop();
  await hms?.close();
  await test?.close();
});

describe("a full call", () => {
  it("leaves a complete, ordered audit trail and no patient data, token or secret in the logs", async () => {
    const call = await videoBooking(test, api);
    const admin = await createUser(test.database.db, "admin", "Ada Admin");
    const adminToken = await api.tokenFor(admin.id);
    const started = await api.gql(StartConsultationDocument, { appointmentId: call.appointment.id }, call.doctorToken);
    const { id, roomId } = started.data!.startConsultation;
    const doctorJoin = await api.gql(JoinConsultationDocument, { consultationId: id }, call.doctorToken);
    const patientJoin = await api.gql(JoinConsultationDocument, { consultationId: id }, call.patientToken);
    await hms.joinPeer(roomId!, { userId: call.patient.user.id, role: "patient", name: call.patient.user.fullName });
    await hms.joinPeer(roomId!, { userId: call.doctor.user.id, role: "doctor", name: call.doctor.user.fullName });
    await hms.flushWebhooks();
    await api.settled();
    await api.gql(ConsultationDocument, { id }, call.patientToken);
    const prescription = await api.gql(
      CreatePrescriptionDocument,
      { input: { consultationId: id, medications: [{ name: "Zanubrutinib", dosage: "80 mg", frequency: "twice daily" }], diagnosis: "Rare-diagnosis-text" } },
      call.doctorToken,
    );
    expect(prescription.errors).toBeUndefined();
    await api.gql(EndConsultationDocument, { consultationId: id }, call.doctorToken);
    await hms.flushWebhooks();
    await api.settled();
    await api.api.services.audit.flush();

    const trail = await api.gql(AuditTrailDocument, { filter: { consultationId: id }, first: 100 }, adminToken);
    const ordered = trail.data!.auditEvents.edges.map((e) => e.node).reverse();
    expect(ordered.map((e) => [e.action, e.actorRole, e.outcome])).toEqual([
      ["consultation.start", "doctor", "ALLOWED"],
      ["consultation.join", "doctor", "ALLOWED"],
      ["consultation.join", "patient", "ALLOWED"],
      ["consultation.activate", "webhook", "ALLOWED"],
      ["consultation.read", "patient", "ALLOWED"],
      ["prescription.create", "doctor", "ALLOWED"],
      ["consultation.read", "doctor", "ALLOWED"], // the mutation's answer included the consultation
      ["consultation.end", "doctor", "ALLOWED"],
    ]);
    expect(ordered.every((e) => e.patientId === call.patient.patient.id)).toBe(true);
    expect(ordered.filter((e) => e.actorRole !== "webhook").every((e) => e.requestId && e.clientIp)).toBe(true);

    const output = logs.join("");
    expect(output).toContain('"msg":"request"');
    const secrets = [
      call.patient.user.fullName,
      call.doctor.user.fullName,
      call.patient.user.email,
      call.doctor.user.email,
      admin.fullName,
      call.doctorToken,
      call.patientToken,
      adminToken,
      doctorJoin.data!.joinConsultation.token,
      patientJoin.data!.joinConsultation.token,
      "Zanubrutinib",
      "Rare-diagnosis-text",
      TEST_JWT_SECRET,
      TEST_WEBHOOK_SECRET,
      HMS_CREDS.appSecret,
    ];
    for (const secret of secrets) expect(output).not.toContain(secret);
    expect(output).not.toMatch(/eyJ[\w-]{10,}/);
  }, 30_000);
});

describe("the audit writer", () => {
  it("logs and counts a failed write, keeps the records, and writes them once the database is back", async () => {
    const lines: string[] = [];
    const broken = await createTestDatabase();
    const repo = new AuditRepo(broken.database.db);
    let failNext = true;
    const flaky = { insert: (entries: Parameters<AuditRepo["insert"]>[0]) => (failNext ? Promise.reject(new Error("db down")) : repo.insert(entries)) };
    const writer = new AuditWriter(flaky as AuditRepo, createLogger("info", { write: (l: string) => void lines.push(l) }));
    writer.enqueue(entry(SYSTEM_ACTOR, "consultation.read", { consultationId: null }));
    await writer.flush();
    expect(writer.failures).toBe(1);
    expect(writer.pending).toBe(1);
    expect(lines.join("")).toContain("audit write failed");
    failNext = false;
    await writer.flush();
    expect(writer.pending).toBe(0);
    expect(await repo.page({ limit: 10 })).toHaveLength(1);
    await broken.close();
  });

  it("isolates a record the database refuses, writes the rest, and logs the one it drops", async () => {
    const lines: string[] = [];
    const db = await createTestDatabase();
    const repo = new AuditRepo(db.database.db);
    const writer = new AuditWriter(repo, createLogger("info", { write: (l: string) => void lines.push(l) }));
    writer.enqueue(entry(SYSTEM_ACTOR, "ok.1", {}), { ...entry(SYSTEM_ACTOR, "poison", {}), outcome: "bogus" as never }, entry(SYSTEM_ACTOR, "ok.2", {}));
    await writer.flush();
    expect((await repo.page({ limit: 10 })).map((r) => r.action).sort()).toEqual(["ok.1", "ok.2"]);
    expect(writer.dropped).toBe(1);
    expect(lines.join("")).toContain("audit record refused by the database");
    await db.close();
  });
});
