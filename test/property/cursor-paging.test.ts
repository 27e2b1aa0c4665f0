/**
 * Paging every connection over real HTTP visits each row exactly once, whatever the page
 * sizes, when sort keys have microseconds (anything written by `now()`) and ties (equal
 * times). Rows are written with raw microsecond timestamps; pages are read with a random
 * `first` per page through consultations, one consultation's timeline (events) and the
 * audit trail. Properties: the rows come in the connection's order with no repeat and no gap,
 * every page but the last is full, and paging ends (at most one page per row, plus one).
 * The millisecond cursors issued before microsecond ones still resume without a gap.
 *
 * Runs on PostgreSQL when TEST_DATABASE_URL is set, and always on embedded PGlite.
 * CURSOR_RUNS=n overrides the number of runs, FC_SEED=n replays a seed fast-check printed.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { appointments, auditEvents, consultationEvents, videoConsultations } from "../../src/db/schema.js";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { AuditTrailDocument, ConsultationsDocument, ConsultationTimelineDocument } from "../gql/graphql.js";
import { drivers, useAdminApi } from "../support/admin-api.js";
import { createDoctor, createPatient } from "../support/builders.js";
import { pageAll } from "../support/paging.js";

const RUNS = Number(process.env.CURSOR_RUNS ?? 12);
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
/** Rows of one run sit `STEP_US` apart times a small integer: many share a millisecond, equal integers tie. */
const STEP_US = 333;
const DAY_MS = 86_400_000;

interface Run {
  /** Each row's time as a multiple of STEP_US after the run's base. */
  steps: number[];
  /** `first` of each page in turn (cycled). */
  sizes: number[];
}

const runs = fc.record({
  steps: fc.array(fc.integer({ min: 0, max: 12 }), { minLength: 1, maxLength: 18 }),
  sizes: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 5 }),
});

/** The exact timestamptz text of `step` in run `run`: a day per run, in the past. */
function timeOf(run: number, step: number): string {
  const us = step * STEP_US;
  const ms = Date.UTC(2020, 0, 1) + run * DAY_MS + Math.floor(us / 1000);
  return new Date(ms).toISOString().replace("Z", `${String(us % 1000).padStart(3, "0")}Z`);
}

describe.each(drivers)("cursor paging on %s", (driver) => {
  const env = useAdminApi(driver);
  let runIndex = 0;

  /** A doctor of their own with one consultation per step; the ids in (time, id) order. */
  async function seedConsultations(run: number, steps: number[]) {
    const db = env.test.database.db;
    const doctor = await createDoctor(db);
    const patient = await createPatient(db);
    const booked = await db
      .insert(appointments)
      .values(steps.map((step) => ({ doctorId: doctor.doctor.id, patientId: patient.patient.id, scheduledAt: sql`${timeOf(run, step)}::timestamptz` })))
      .returning({ id: appointments.id });
    const made = await db
      .insert(videoConsultations)
      .values(booked.map((a) => ({ appointmentId: a.id, doctorId: doctor.doctor.id, patientId: patient.patient.id, status: "pending" as const })))
      .returning({ id: videoConsultations.id });
    const expected = made.map((c, i) => ({ step: steps[i]!, id: c.id }));
    expected.sort((a, b) => a.step - b.step || (a.id < b.id ? -1 : 1));
    return { token: await env.api.tokenFor(doctor.user.id), consultationId: made[0]!.id, rows: expected, expected: expected.map((c) => c.id) };
  }

  /** One event per step in the consultation's log; their GraphQL ids in log order. */
  async function seedEvents(run: number, consultationId: string, steps: number[]) {
    const rows = await env.test.database.db
      .insert(consultationEvents)
      .values(steps.map((step, i) => ({
        consultationId,
        type: "STATUS_CHANGED" as const,
        status: "pending" as const,
        occurredAt: sql`${timeOf(run, step)}::timestamptz`,
        dedupeKey: `paging:${i}`,
      })))
      .returning({ id: consultationEvents.id });
    return rows.map((r) => r.id).sort((a, b) => a - b);
  }

  /** One audit record per step for a consultation id of its own; actions newest first. */
  async function seedAudit(run: number, steps: number[]) {
    const consultationId = randomUUID();
    const rows = await env.test.database.db
      .insert(auditEvents)
      .values(steps.map((step, i) => ({ occurredAt: sql`${timeOf(run, step)}::timestamptz`, action: `paging.${i}`, consultationId, outcome: "allowed" as const })))
      .returning({ id: auditEvents.id });
    const expected = rows.map((r, i) => ({ step: steps[i]!, id: r.id, action: `paging.${i}` }));
    expected.sort((a, b) => b.step - a.step || b.id - a.id);
    return { consultationId, rows: expected, expected: expected.map((e) => e.action) };
  }

  async function check({ steps, sizes }: Run): Promise<void> {
    const run = runIndex++;
    const total = steps.length;
    const seeded = await seedConsultations(run, steps);
    const consultations = await pageAll(sizes, total, async (first, after) => {
      const r = await env.api.gql(ConsultationsDocument, { first, after }, seeded.token);
      expect(r.errors).toBeUndefined();
      const c = r.data!.consultations;
      return { items: c.edges.map((e) => e.node.id), ...c.pageInfo };
    });
    expect(consultations).toEqual(seeded.expected);

    const events = await seedEvents(run, seeded.consultationId, steps);
    const timeline = await pageAll(sizes, total, async (first, after) => {
      const r = await env.api.gql(ConsultationTimelineDocument, { id: seeded.consultationId, first, after }, seeded.token);
      expect(r.errors).toBeUndefined();
      const c = r.data!.consultation!.events;
      return { items: c.edges.map((e) => e.cursor), ...c.pageInfo };
    });
    expect(timeline).toEqual(events.map(encodeEventId));

    const audit = await seedAudit(run, steps);
    // Reading the trail is audited too (with the time of the read): `to` keeps those out.
    const filter = { consultationId: audit.consultationId, to: new Date(Date.UTC(2020, 0, 2) + run * DAY_MS).toISOString() };
    const trail = await pageAll(sizes, total, async (first, after) => {
      const r = await env.api.gql(AuditTrailDocument, { filter, first, after }, env.adminToken);
      expect(r.errors).toBeUndefined();
      const c = r.data!.auditEvents;
      return { items: c.edges.map((e) => e.node.action), ...c.pageInfo };
    });
    expect(trail).toEqual(audit.expected);
  }

  it("visits every consultation, event and audit record exactly once, in order, and ends", async () => {
    await fc.assert(fc.asyncProperty(runs, check), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  }, 120_000);

  it("resumes from the millisecond cursors issued before: rows of that millisecond may repeat, none is skipped", async () => {
    const run = runIndex++;
    // Four rows in one millisecond (two tied), then one in the next.
    const steps = [0, 1, 1, 2, 4];
    const ms = (step: number) => timeOf(run, step).slice(0, 23) + "Z";
    const b64 = (text: string) => Buffer.from(text, "utf8").toString("base64url");
    const seeded = await seedConsultations(run, steps);
    const audit = await seedAudit(run, steps);
    const filter = { consultationId: audit.consultationId, to: new Date(Date.UTC(2020, 0, 2) + run * DAY_MS).toISOString() };
    for (const [i, row] of seeded.rows.entries()) {
      const r = await env.api.gql(ConsultationsDocument, { first: 100, after: b64(`c1:${ms(row.step)}|${row.id}`) }, seeded.token);
      const rest = r.data!.consultations.edges.map((e) => e.node.id);
      const from = seeded.expected.length - rest.length;
      expect(rest).toEqual(seeded.expected.slice(from));
      expect(from).toBeLessThanOrEqual(i + 1);
      expect(seeded.rows.slice(from, i + 1).every((s) => ms(s.step) === ms(row.step))).toBe(true);
    }
    for (const [i, row] of audit.rows.entries()) {
      const r = await env.api.gql(AuditTrailDocument, { filter, first: 100, after: b64(`au2:${ms(row.step)}|${row.id}`) }, env.adminToken);
      const rest = r.data!.auditEvents.edges.map((e) => e.node.action);
      const from = audit.expected.length - rest.length;
      expect(rest).toEqual(audit.expected.slice(from));
      expect(from).toBeLessThanOrEqual(i + 1);
      expect(audit.rows.slice(from, i + 1).every((s) => ms(s.step) === ms(row.step))).toBe(true);
    }
  });

  it("visits every row of 23 consultations at microsecond times with first: 4 (the reported case)", async () => {
    await check({ steps: Array.from({ length: 23 }, (_, i) => i * 5 + (i % 3 === 0 ? 0 : 1)), sizes: [4] });
  });
});
