/**
 * The audit trail over records of several consultations (one per read request) and records of
 * one, at microsecond times with ties: for each consultation, `auditEvents(filter:
 * { consultationId })` lists exactly the requests that touched it, once each, newest first;
 * a time window and an actor list every consultation of every record once, in order. Paged
 * through real HTTP at random page sizes: no repeat, no gap, every page but the last full.
 * The expected lists are worked out here from the stored rows, independently of the SQL.
 *
 * Runs on PostgreSQL when TEST_DATABASE_URL is set, and always on embedded PGlite.
 * AUDIT_RUNS=n overrides the number of runs, FC_SEED=n replays a seed fast-check printed.
 */
import { randomUUID } from "node:crypto";
import { and, asc, gte, lt, sql } from "drizzle-orm";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { entry, readsEntry, type Actor, type AuditEntry } from "../../src/audit/audit.model.js";
import { auditEvents } from "../../src/db/schema.js";
import { exactTime } from "../../src/db/exact-time.js";
import { AuditTrailDocument, type AuditEventFilter } from "../gql/graphql.js";
import { drivers, useAdminApi } from "../support/admin-api.js";
import { pageAll } from "../support/paging.js";

const RUNS = Number(process.env.AUDIT_RUNS ?? 10);
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
const DAY_MS = 86_400_000;

/** One record: a request's reads (a set of the run's consultations, in the order read) or one action on one. */
type Request = { actor: number; step: number } & ({ reads: number[] } | { single: number });

const CONSULTATIONS = 6;
const runs = fc.record({
  requests: fc.array(
    fc.oneof(
      fc.record({ actor: fc.nat(2), step: fc.nat(6), reads: fc.uniqueArray(fc.nat(CONSULTATIONS - 1), { minLength: 1, maxLength: CONSULTATIONS }) }),
      fc.record({ actor: fc.nat(2), step: fc.nat(6), single: fc.nat(CONSULTATIONS - 1) }),
    ),
    { minLength: 1, maxLength: 24 },
  ),
  sizes: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }),
});

/** `step` of run `run` as exact timestamptz text: 0.000250 s apart, so several share a millisecond. */
function timeOf(run: number, step: number): string {
  const us = step * 250;
  return new Date(Date.UTC(2019, 0, 1) + run * DAY_MS + Math.floor(us / 1000)).toISOString().replace("Z", `${String(us % 1000).padStart(3, "0")}Z`);
}

/** An event as the trail shows it, and as worked out here. */
const keyOf = (requestId: string | null | undefined, consultationId: string | null | undefined) => `${requestId}/${consultationId}`;

describe.each(drivers)("the audit trail over read requests on %s", (driver) => {
  const env = useAdminApi(driver);
  let runIndex = 0;

  /** Stores the run's records (each request id unique); reads back what was stored, newest first. */
  async function seed(run: number, requests: Request[], consultations: string[], patients: string[], actors: string[]) {
    const entries = requests.map((request, i): AuditEntry => {
      const actor: Actor = { userId: actors[request.actor]!, role: "doctor", requestId: `run${run}-req${i}`, clientIp: "127.0.0.1" };
      if ("single" in request) return entry(actor, "consultation.join", { consultationId: consultations[request.single]!, patientId: patients[request.single]! });
      return readsEntry(actor, new Map(request.reads.map((k) => [consultations[k]!, patients[k]!])));
    });
    const db = env.test.database.db;
    await db.insert(auditEvents).values(
      entries.map((e, i) => ({
        ...e,
        occurredAt: sql`${timeOf(run, requests[i]!.step)}::timestamptz`,
        consultationIds: e.consultationIds ? [...e.consultationIds] : null,
        patientIds: e.patientIds ? [...e.patientIds] : null,
      })),
    );
    const window = and(gte(auditEvents.occurredAt, sql`${timeOf(run, 0)}::timestamptz`), lt(auditEvents.occurredAt, new Date(Date.UTC(2019, 0, 2) + run * DAY_MS)));
    const stored = await db.select({ at: exactTime(auditEvents.occurredAt), id: auditEvents.id, record: auditEvents }).from(auditEvents).where(window).orderBy(asc(auditEvents.id));
    return stored.sort((a, b) => (a.at === b.at ? b.id - a.id : a.at < b.at ? 1 : -1)).map((s) => s.record);
  }

  /** Every event matching `filter`, paged at `sizes`, as request/consultation keys; checks each node's patient. */
  async function trail(filter: AuditEventFilter, sizes: number[], total: number, patientOf: Map<string, string>) {
    return pageAll(sizes, total, async (first, after) => {
      const r = await env.api.gql(AuditTrailDocument, { filter, first, after }, env.adminToken);
      expect(r.errors).toBeUndefined();
      const c = r.data!.auditEvents;
      for (const { node } of c.edges) expect(node.patientId).toBe(patientOf.get(node.consultationId!));
      return { items: c.edges.map((e) => keyOf(e.node.requestId, e.node.consultationId)), ...c.pageInfo };
    });
  }

  async function check({ requests, sizes }: { requests: Request[]; sizes: number[] }): Promise<void> {
    const run = runIndex++;
    const consultations = Array.from({ length: CONSULTATIONS }, () => randomUUID());
    const patients = Array.from({ length: CONSULTATIONS }, () => randomUUID());
    const patientOf = new Map(consultations.map((c, i) => [c, patients[i]!]));
    const actors = [randomUUID(), randomUUID(), randomUUID()];
    const stored = await seed(run, requests, consultations, patients, actors);
    expect(stored).toHaveLength(requests.length);

    // Newest first; within a record of several, the consultations in reverse order of reading.
    const events = stored.flatMap((r) =>
      r.consultationIds ? [...r.consultationIds].reverse().map((c) => ({ actorId: r.actorId, key: keyOf(r.requestId, c), consultationId: c })) : [{ actorId: r.actorId, key: keyOf(r.requestId, r.consultationId), consultationId: r.consultationId }],
    );
    const window = { from: timeOf(run, 0), to: new Date(Date.UTC(2019, 0, 2) + run * DAY_MS).toISOString() };
    expect(await trail(window, sizes, events.length, patientOf)).toEqual(events.map((e) => e.key));
    const mine = events.filter((e) => e.actorId === actors[0]);
    expect(await trail({ actorId: actors[0] }, sizes, mine.length, patientOf)).toEqual(mine.map((e) => e.key));
    for (const consultationId of consultations) {
      const touched = events.filter((e) => e.consultationId === consultationId);
      expect(touched.length).toBe(requests.filter((q) => ("single" in q ? consultations[q.single] === consultationId : q.reads.some((k) => consultations[k] === consultationId))).length);
      expect(await trail({ consultationId }, sizes, touched.length, patientOf)).toEqual(touched.map((e) => e.key));
    }
  }

  it("lists every read of a consultation exactly once, and every event of a window or an actor once, in order", async () => {
    await fc.assert(fc.asyncProperty(runs, check), { numRuns: RUNS, seed: SEED, endOnFailure: true });
  }, 120_000);
});
