/**
 * HTTP operations run on graphql-jit (GRAPHQL_JIT, default on) must answer exactly as on
 * graphql-js: two APIs on the same database, one each way, get the same requests (every
 * operation in test/operations/ with realistic variables and viewers, their refusals, partial
 * data and null propagation), and the raw response bodies and statuses are compared. The
 * compiled API sees each request twice: a document is compiled on its second sighting, so the
 * first answer comes from graphql-js there too, the second from the compiled query (the
 * metrics tell which ran).
 */
import { readFileSync } from "node:fs";
import { eq } from "drizzle-orm";
import { parse, print, type DocumentNode } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { videoConsultations } from "../../src/db/schema.js";
import * as gql from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createConsultation, createDoctor, createPatient, createUser } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startHms, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

let test: TestDatabase;
let hms: HmsStandIn;
let compiled: TestApi;
let plain: TestApi;

beforeAll(async () => {
  test = await createTestDatabase();
  const started = await startHms();
  hms = started.hms;
  compiled = await startTestApi(test, started.env);
  plain = await startTestApi(test, { ...started.env, GRAPHQL_JIT: "false" });
});

afterAll(async () => {
  await compiled?.stop();
  await plain?.stop();
  await hms?.close();
  await test?.close();
});

interface Case {
  name: string;
  document: DocumentNode | string;
  variables?: Record<string, unknown>;
  operationName?: string;
  token?: string | null;
  /** Fields whose values differ by design on every call (a freshly minted join token). */
  fresh?: string[];
  /**
   * What executes the repeated request on the compiled API: the compiled query, or graphql-js
   * (variables that do not coerce), or nothing (refused before execution).
   */
  runs?: "compiled" | "graphql-js" | "nothing";
  /** The answer's error codes, in order (none when absent). */
  codes?: string[];
}

const OPERATION_FILES = ["commands", "consultations", "live", "prescriptions"].map((f) => new URL(`../operations/${f}.graphql`, import.meta.url));

function operationNames(): string[] {
  return OPERATION_FILES.flatMap((file) =>
    parse(readFileSync(file, "utf8")).definitions.flatMap((d) => (d.kind === "OperationDefinition" && d.name ? [d.name.value] : [])),
  );
}

async function send(api: TestApi, c: Case) {
  const query = typeof c.document === "string" ? c.document : print(c.document);
  const headers: Record<string, string> = c.token ? { authorization: `Bearer ${c.token}` } : {};
  const response = await fetch(`${api.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables: c.variables ?? {}, operationName: c.operationName }),
  });
  const text = await response.text();
  return { status: response.status, body: c.fresh ? blank(text, c.fresh) : text };
}

/** The response with the named fields' string values replaced, for values minted per call. */
function blank(text: string, fields: string[]): string {
  return JSON.stringify(JSON.parse(text), (key, value: unknown) => (fields.includes(key) && typeof value === "string" ? "<fresh>" : value));
}

async function executions(api: TestApi, executor: "compiled" | "graphql-js"): Promise<number> {
  const metric = await api.api.services.metrics.graphqlExecutions.get();
  return metric.values.find((v) => v.labels.executor === executor)?.value ?? 0;
}

/** Both APIs' event hubs at the same log position, so `liveCursor` reads the same. */
async function hubsAligned(): Promise<void> {
  const position = (api: TestApi) => api.api.services.consultationEvents.logPosition();
  const deadline = Date.now() + 5_000;
  while (position(compiled) !== position(plain) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(position(compiled), "both event hubs caught up").toBe(position(plain));
}

/** graphql-js, then graphql-js on the compiled API (first sighting), then the compiled query. */
async function expectSameAnswers(c: Case): Promise<void> {
  await hubsAligned();
  const before = { compiled: await executions(compiled, "compiled"), plain: await executions(compiled, "graphql-js") };
  const reference = await send(plain, c);
  expect.soft(codes(reference.body), `${c.name}: error codes`).toEqual(c.codes ?? []);
  const firstSight = await send(compiled, c);
  const compiledAnswer = await send(compiled, c);
  expect(firstSight, `${c.name} (first sight)`).toEqual(reference);
  expect(compiledAnswer, `${c.name} (compiled)`).toEqual(reference);
  const after = { compiled: await executions(compiled, "compiled"), plain: await executions(compiled, "graphql-js") };
  const ran = { compiled: after.compiled - before.compiled, plain: after.plain - before.plain };
  expect(ran, `${c.name}: executions on the compiled API`).toEqual(expectedExecutions(c));
}

/** Documents the compiled API's executor has seen, and how often (compiled from the second). */
const sightings = new Map<string, number>();

function expectedExecutions(c: Case): { compiled: number; plain: number } {
  const runs = c.runs ?? "compiled";
  if (runs === "nothing") return { compiled: 0, plain: 0 };
  const key = `${c.operationName} ${typeof c.document === "string" ? c.document : print(c.document)}`;
  const seen = sightings.get(key) ?? 0;
  sightings.set(key, seen + 2);
  if (runs === "graphql-js") return { compiled: 0, plain: 2 };
  return seen === 0 ? { compiled: 1, plain: 1 } : { compiled: 2, plain: 0 };
}

const TWO_OPERATIONS = "query Mine { consultations(first: 2) { edges { node { id status } } } } query Me { me { id role } }";

const codes = (body: string): unknown[] => (JSON.parse(body) as { errors?: Array<{ extensions?: { code?: string } }> }).errors?.map((e) => e.extensions?.code) ?? [];

describe("compiled execution (graphql-jit) and graphql-js", () => {
  it("answer every operation in test/operations/, refusals and partial data included, identically", async () => {
    const db = test.database.db;
    const admin = await createUser(db, "admin");
    const outsider = await createDoctor(db);
    const call = await createCareTeamWithRoom(db);
    // A call that took place half an hour ago: presence, timeline and attendance to read.
    for (const webhook of scriptedCall(call.parties, new Date(Date.now() - 30 * 60_000))) await compiled.webhook(webhook);
    const pending = await createConsultation(db, { doctorId: call.doctor.doctor.id, patientId: (await createPatient(db)).patient.id });
    const booking = await videoBooking(test, compiled);
    const [doctor, patient, adminToken, outsiderToken] = await Promise.all([
      compiled.tokenFor(call.doctor.user.id),
      compiled.tokenFor(call.patient.user.id),
      compiled.tokenFor(admin.id),
      compiled.tokenFor(outsider.user.id),
    ]);
    const id = call.consultation.id;
    const unknownId = "00000000-0000-4000-8000-000000000000";
    const medications = [{ name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", durationDays: 7 }];

    const beforeStart: Case[] = [
      { name: "Me", document: gql.MeDocument, token: doctor },
      { name: "Me, patient", document: gql.MeDocument, token: patient },
      { name: "Me, anonymous (UNAUTHENTICATED)", document: gql.MeDocument, token: null, codes: ["UNAUTHENTICATED"] },
      { name: "Consultations", document: gql.ConsultationsDocument, variables: { first: 50 }, token: doctor },
      { name: "Consultations, filtered", document: gql.ConsultationsDocument, variables: { first: 1, filter: { status: ["PENDING"], from: "2020-01-01T00:00:00.000Z" } }, token: doctor },
      { name: "Consultations, first too large (BAD_USER_INPUT, data null)", document: gql.ConsultationsDocument, variables: { first: 101 }, token: doctor, codes: ["BAD_USER_INPUT"] },
      { name: "Consultations, first not an Int (BAD_USER_INPUT)", document: gql.ConsultationsDocument, variables: { first: "fifty" }, token: doctor, runs: "graphql-js", codes: ["BAD_USER_INPUT"] },
      // graphql-jit alone would accept a list for an input object: graphql-js decides.
      { name: "Consultations, filter a list (BAD_USER_INPUT)", document: gql.ConsultationsDocument, variables: { first: 5, filter: [] }, token: doctor, runs: "graphql-js", codes: ["BAD_USER_INPUT"] },
      { name: "Consultations, bad cursor (BAD_USER_INPUT)", document: gql.ConsultationsDocument, variables: { first: 5, after: "garbage" }, token: doctor, codes: ["BAD_USER_INPUT"] },
      { name: "Consultation", document: gql.ConsultationDocument, variables: { id }, token: doctor },
      { name: "Consultation, patient", document: gql.ConsultationDocument, variables: { id }, token: patient },
      { name: "Consultation, another doctor's: null", document: gql.ConsultationDocument, variables: { id }, token: outsiderToken },
      { name: "Consultation, unknown: null", document: gql.ConsultationDocument, variables: { id: unknownId }, token: doctor },
      { name: "Consultation, not an id (BAD_USER_INPUT)", document: gql.ConsultationDocument, variables: { id: "not-a-uuid" }, token: doctor, codes: ["BAD_USER_INPUT"] },
      { name: "AppointmentConsultation", document: gql.AppointmentConsultationDocument, variables: { id }, token: adminToken },
      { name: "ConsultationTimeline", document: gql.ConsultationTimelineDocument, variables: { id, first: 2 }, token: doctor },
      { name: "ConsultationTimeline, over the page size (BAD_USER_INPUT)", document: gql.ConsultationTimelineDocument, variables: { id, first: 101 }, token: doctor, codes: ["BAD_USER_INPUT"] },
      { name: "ConsultationAttendance", document: gql.ConsultationAttendanceDocument, variables: { id }, token: patient },
      { name: "ConsultationEvents over HTTP (BAD_REQUEST)", document: gql.ConsultationEventsDocument, variables: { consultationId: id }, token: doctor, runs: "nothing", codes: ["BAD_REQUEST"] },
      { name: "MyConsultationEvents over HTTP (BAD_REQUEST)", document: gql.MyConsultationEventsDocument, variables: {}, token: doctor, runs: "nothing", codes: ["BAD_REQUEST"] },
      { name: "LiveConsultation over HTTP (BAD_REQUEST)", document: gql.LiveConsultationDocument, variables: { consultationId: id }, token: doctor, runs: "nothing", codes: ["BAD_REQUEST"] },
      { name: "StartConsultation", document: gql.StartConsultationDocument, variables: { appointmentId: booking.appointment.id }, token: booking.doctorToken },
      { name: "StartConsultation, another doctor's (NOT_FOUND)", document: gql.StartConsultationDocument, variables: { appointmentId: booking.appointment.id }, token: outsiderToken, codes: ["NOT_FOUND"] },
    ];
    const afterStart = (consultationId: string, prescription = { consultationId, diagnosis: "Otitis media", medications, idempotencyKey: `rx-${consultationId}` }): Case[] => [
      { name: "JoinConsultation", document: gql.JoinConsultationDocument, variables: { consultationId }, token: booking.patientToken, fresh: ["token"] },
      { name: "JoinConsultation, rejoining the call", document: gql.JoinConsultationDocument, variables: { consultationId: id }, token: patient, fresh: ["token"] },
      { name: "JoinConsultation, admin (FORBIDDEN)", document: gql.JoinConsultationDocument, variables: { consultationId: id }, token: adminToken, codes: ["FORBIDDEN"] },
      { name: "JoinConsultation, not an id (BAD_USER_INPUT)", document: gql.JoinConsultationDocument, variables: { consultationId: "x" }, token: patient, codes: ["BAD_USER_INPUT"] },
      { name: "EndConsultation, patient (FORBIDDEN)", document: gql.EndConsultationDocument, variables: { consultationId: id }, token: patient, codes: ["FORBIDDEN"] },
      { name: "EndConsultation", document: gql.EndConsultationDocument, variables: { consultationId }, token: booking.doctorToken },
      { name: "CancelConsultation, completed (INVALID_STATE)", document: gql.CancelConsultationDocument, variables: { consultationId }, token: booking.doctorToken, codes: ["INVALID_STATE"] },
      { name: "CancelConsultation, reason too long (BAD_USER_INPUT)", document: gql.CancelConsultationDocument, variables: { consultationId: pending.consultation.id, reason: "x".repeat(501) }, token: doctor, codes: ["BAD_USER_INPUT"] },
      { name: "CancelConsultation", document: gql.CancelConsultationDocument, variables: { consultationId: pending.consultation.id, reason: "Patient asked" }, token: doctor },
      { name: "CreatePrescription", document: gql.CreatePrescriptionDocument, variables: { input: prescription }, token: booking.doctorToken },
      { name: "CreatePrescription, patient (FORBIDDEN)", document: gql.CreatePrescriptionDocument, variables: { input: prescription }, token: booking.patientToken, codes: ["FORBIDDEN"] },
      { name: "CreatePrescription, no medications (BAD_USER_INPUT)", document: gql.CreatePrescriptionDocument, variables: { input: { ...prescription, medications: [] } }, token: booking.doctorToken, codes: ["BAD_USER_INPUT"] },
      { name: "CreatePrescription, input missing (BAD_USER_INPUT)", document: gql.CreatePrescriptionDocument, variables: {}, token: booking.doctorToken, runs: "graphql-js", codes: ["BAD_USER_INPUT"] },
      { name: "AuditTrail, doctor (FORBIDDEN)", document: gql.AuditTrailDocument, variables: { first: 5 }, token: doctor, codes: ["FORBIDDEN"] },
      { name: "AuditTrail, not a date (BAD_USER_INPUT)", document: gql.AuditTrailDocument, variables: { filter: { from: "yesterday" } }, token: adminToken, runs: "graphql-js", codes: ["BAD_USER_INPUT"] },
      {
        name: "partial data: one consultation, one refused",
        codes: ["BAD_USER_INPUT"],
        document: `query Two($a: ID!, $b: ID!) { a: consultation(id: $a) { id status } b: consultation(id: $b) { id } }`,
        variables: { a: id, b: "not-a-uuid" },
        token: doctor,
      },
      {
        name: "null propagation: a non-null field's error nulls its nullable parent",
        codes: ["BAD_USER_INPUT"],
        document: `query N($id: ID!) { me { id } consultation(id: $id) { id events(first: 101) { edges { cursor } } } }`,
        variables: { id },
        token: doctor,
      },
      {
        name: "null propagation through a list of non-null items up to data",
        codes: ["BAD_USER_INPUT"],
        document: `{ consultations(first: 3) { edges { node { id events(first: 101) { edges { cursor } } } } } }`,
        token: doctor,
      },
      { name: "two operations in one document, the first", document: TWO_OPERATIONS, operationName: "Mine", token: doctor },
      { name: "two operations in one document, the second", document: TWO_OPERATIONS, operationName: "Me", token: doctor },
      { name: "no operation of that name (OPERATION_RESOLUTION_FAILURE)", document: TWO_OPERATIONS, operationName: "", token: doctor, runs: "graphql-js", codes: ["OPERATION_RESOLUTION_FAILURE"] },
      {
        name: "introspection (development and test)",
        document: `{ __schema { queryType { name } types { name kind fields { name type { name kind ofType { name } } } } } __type(name: "Consultation") { description } }`,
        token: doctor,
      },
      {
        name: "directives, aliases, __typename, inline fragments",
        document: `query D($no: Boolean!) { me { __typename who: fullName role @include(if: $no) ... on User @skip(if: $no) { id } } }`,
        variables: { no: false },
        token: doctor,
      },
    ];

    const cases = [...beforeStart, ...afterStart(unknownId)];
    expect(new Set(cases.flatMap((c) => (typeof c.document === "string" ? [] : [(c.document.definitions[0] as { name?: { value: string } }).name?.value])))).toEqual(
      new Set(operationNames()),
    );
    for (const c of beforeStart) await expectSameAnswers(c);
    const [started] = await db.select().from(videoConsultations).where(eq(videoConsultations.appointmentId, booking.appointment.id));
    for (const c of afterStart(started!.id)) await expectSameAnswers(c);

    // The audit trail once every read above is written (newest first, so also after them).
    await Promise.all([compiled.api.services.audit.flush(), plain.api.services.audit.flush()]);
    await expectSameAnswers({ name: "AuditTrail", document: gql.AuditTrailDocument, variables: { filter: { consultationId: id, to: new Date().toISOString() }, first: 100 }, token: adminToken });
    // About 240 requests, one after another: on the embedded database with three other files
    // running they took more than 30 s once. Nothing here waits on a clock; this only bounds a hang.
  }, 180_000);
});
