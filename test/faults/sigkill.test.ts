/**
 * The API process killed with SIGKILL mid-stream (the real entry point, on PostgreSQL): a
 * bounded stream of authentic 100ms webhooks goes out 8 at a time; after the 200th has been
 * dispatched the process gets `kill -9` with requests in flight. Every request is recorded as
 * acknowledged (200), another status, or a connection error. The API is restarted on the same
 * database, the rest of the stream is sent, and the connection errors are sent again.
 *
 * Properties: every webhook answered 200 before the kill is in hms_webhook_events right
 * after it (before any restart); a webhook whose request died with the process may or may
 * not have been stored, but once resent it is stored exactly once (a redelivery of a stored,
 * processed one is a 200 "duplicate"), and one stored but not yet processed when the process
 * died is processed on redelivery; in the end the inbox holds each webhook of the stream
 * exactly once and nothing else; the restarted API is ready (/readyz 200).
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { videoConsultations } from "../../src/db/schema.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { peerJoinSuccess, peerLeaveSuccess, type HmsWebhook } from "../support/hms-webhooks.js";
import { streamWebhooks, summarize, type DeliveryOutcome } from "../support/webhook-stream.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, WEBHOOK_HEADERS, type RealApi } from "./real-api.js";

const TOTAL = 360;
const KILL_AFTER = 200;
const CONCURRENCY = 8;

let test: TestDatabase;
let first: RealApi | undefined;
let second: RealApi | undefined;
let roomId: string;
let doctorUserId: string;
let patientUserId: string;

describe.skipIf(skipReason !== null)(`The API process killed with SIGKILL mid-stream${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
    const team = await createCareTeam(test.database.db);
    roomId = `room-${team.consultation.id}`;
    await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, team.consultation.id));
    doctorUserId = team.doctor.user.id;
    patientUserId = team.patient.user.id;
  }, 60_000);

  afterAll(async () => {
    await ensureStopped(first);
    await ensureStopped(second);
    await test?.close();
  });

  /**
   * Authentic peer.join.success / peer.leave.success bodies with unique envelope ids: a third
   * for the consultation's room (its doctor and patient coming and going), the rest for rooms
   * the API does not know (stored too, outcome unknown_room).
   */
  function webhookStream(): HmsWebhook[] {
    const ctx = { appId: "app-sigkill", accountId: "acct-sigkill" };
    const start = Date.now() - 3_600_000;
    const bodies: HmsWebhook[] = [];
    for (let i = 0; i < TOTAL; i++) {
      const known = i % 3 === 0;
      const session = {
        roomId: known ? roomId : `unknown-room-${i % 17}`,
        roomName: known ? "consultation-x" : `consultation-unknown-${i % 17}`,
        templateId: "tpl",
        sessionId: `session-${known ? "known" : i % 17}`,
        sessionStartedAt: new Date(start),
      };
      const doctor = i % 2 === 0;
      const peer = {
        peerId: `peer-${Math.floor(i / 2)}`,
        userId: known ? (doctor ? doctorUserId : patientUserId) : `user-${i}`,
        userName: doctor ? "Doctor" : "Patient",
        userData: "",
        role: doctor ? "doctor" : "patient",
        joinedAt: new Date(start + i * 1000),
      };
      bodies.push(
        i % 4 < 2
          ? peerJoinSuccess(ctx, session, peer)
          : peerLeaveSuccess(ctx, session, peer, { leftAt: new Date(start + i * 1000 + 500), reason: "client request" }),
      );
    }
    return bodies;
  }

  async function storedIds(): Promise<Map<string, number>> {
    const rows = await test.database.rows<{ id: string; n: number }>(
      sql`select id, count(*)::int as n from hms_webhook_events group by id`,
    );
    return new Map(rows.map((r) => [r.id, r.n]));
  }

  it("keeps every acknowledged webhook, and stores each resent one exactly once", async () => {
    const bodies = webhookStream();
    expect(new Set(bodies.map((b) => b.id)).size).toBe(TOTAL);
    first = await startRealApi(realApiEnv(test.url!, { RECONCILE_INTERVAL_SECONDS: "0" }));
    const killed = first;
    let inFlightAtKill = 0;

    // Phase 1: stream until the 200th is dispatched, then kill -9 with requests in flight.
    const phase1 = await streamWebhooks(bodies, {
      url: `${killed.url}/webhooks/100ms`,
      headers: WEBHOOK_HEADERS,
      concurrency: CONCURRENCY,
      onDispatched: (n, inFlight) => {
        if (n < KILL_AFTER) return;
        inFlightAtKill = inFlight;
        killed.process.child.kill("SIGKILL");
        return "stop";
      },
    });
    await killed.process.exited;
    expect(killed.process.child.signalCode).toBe("SIGKILL");
    const before = summarize(phase1.outcomes);
    const lost = phase1.outcomes.filter((o) => o.kind === "connection-error");
    console.info(
      `[sigkill] dispatched ${phase1.outcomes.length}, in flight at the kill ${inFlightAtKill}: ` +
        `${before.acknowledged} acknowledged, ${before.otherStatus} other status ${JSON.stringify(before.byStatus)}, ` +
        `${before.connectionErrors} connection errors ${JSON.stringify(before.byCode)}; ${phase1.unsent.length} unsent`,
    );
    expect(phase1.outcomes.length).toBe(KILL_AFTER);
    expect(phase1.unsent.length).toBe(TOTAL - KILL_AFTER);
    expect(inFlightAtKill).toBeGreaterThan(0);
    // No answer other than 200 while the process was healthy; the kill only cuts connections.
    expect(phase1.outcomes.filter((o) => o.kind === "status")).toEqual([]);
    expect(before.acknowledged).toBeGreaterThan(0);

    // Everything acknowledged before the kill is durable: it is in the inbox right now,
    // before any restart could have re-received it.
    const afterKill = await storedIds();
    const acknowledgedBefore = phase1.outcomes.filter((o) => o.kind === "acknowledged").map((o) => o.id);
    expect(acknowledgedBefore.filter((id) => !afterKill.has(id))).toEqual([]);
    const lostButStored = lost.filter((o) => afterKill.has(o.id)).map((o) => o.id);
    const unprocessedAtKill = new Set(
      (await test.database.rows<{ id: string }>(sql`select id from hms_webhook_events where processed_at is null`)).map((r) => r.id),
    );
    console.info(
      `[sigkill] of ${lost.length} connection errors, ${lostButStored.length} were stored before the process died ` +
        `(${lostButStored.filter((id) => unprocessedAtKill.has(id)).length} of them not yet processed)`,
    );

    // Phase 2: restart on the same database; it is ready, and takes the rest of the stream.
    second = await startRealApi(realApiEnv(test.url!, { RECONCILE_INTERVAL_SECONDS: "0" }));
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
    const phase2 = await streamWebhooks(phase1.unsent, {
      url: `${second.url}/webhooks/100ms`,
      headers: WEBHOOK_HEADERS,
      concurrency: CONCURRENCY,
    });
    expect(phase2.outcomes.filter((o) => o.kind !== "acknowledged")).toEqual([]);
    expect(phase2.outcomes.length).toBe(TOTAL - KILL_AFTER);

    // Phase 3: resend what died with the process (what 100ms's retries would do).
    const lostBodies = bodies.filter((b) => lost.some((o) => o.id === b.id));
    const phase3 = await streamWebhooks(lostBodies, {
      url: `${second.url}/webhooks/100ms`,
      headers: WEBHOOK_HEADERS,
      concurrency: CONCURRENCY,
    });
    expect(phase3.outcomes.filter((o) => o.kind !== "acknowledged")).toEqual([]);
    // A redelivery of one stored before the kill is a 200 that changes nothing.
    for (const o of phase3.outcomes as Extract<DeliveryOutcome, { kind: "acknowledged" }>[]) {
      const answer = (JSON.parse(o.answer) as { status: string }).status;
      if (afterKill.has(o.id)) expect(["duplicate", "accepted"]).toContain(answer);
      else expect(answer).toBe("accepted");
    }
    // Everything stored but not applied when the process died (acknowledged or not) is applied
    // by the new process: its queue takes the inbox's backlog at start, and redeliveries.
    const unprocessed = () => test.database.rows<{ id: string }>(sql`select id from hms_webhook_events where processed_at is null`);
    const deadline = Date.now() + 15_000;
    while ((await unprocessed()).length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await unprocessed()).toEqual([]);
    // Sending a stored, processed one yet again is a duplicate, and stores nothing new.
    const processed = new Set(
      (await test.database.rows<{ id: string }>(sql`select id from hms_webhook_events where processed_at is not null`)).map((r) => r.id),
    );
    const again = await streamWebhooks(bodies.filter((b) => processed.has(b.id)).slice(0, 5), {
      url: `${second.url}/webhooks/100ms`,
      headers: WEBHOOK_HEADERS,
      concurrency: 5,
    });
    const answers = again.outcomes.map((o) => (o.kind === "acknowledged" ? (JSON.parse(o.answer) as { status: string }).status : o.kind));
    expect(answers).toEqual(Array(5).fill("duplicate"));

    // The inbox holds every webhook of the stream exactly once, and nothing else.
    const stored = await storedIds();
    const acknowledged = new Set(
      [...phase1.outcomes, ...phase2.outcomes, ...phase3.outcomes].filter((o) => o.kind === "acknowledged").map((o) => o.id),
    );
    expect(acknowledged.size).toBe(TOTAL);
    expect([...acknowledged].filter((id) => !stored.has(id))).toEqual([]);
    expect([...stored.values()].every((n) => n === 1)).toBe(true);
    expect(stored.size).toBe(TOTAL);
    const [counts] = await test.database.rows<{ total: number; unprocessed: number }>(
      sql`select count(*)::int as total, count(*) filter (where processed_at is null)::int as unprocessed from hms_webhook_events`,
    );
    console.info(`[sigkill] inbox after restart + resend: ${counts!.total} rows, ${counts!.unprocessed} unprocessed`);
    expect((await fetch(`${second.url}/readyz`)).status).toBe(200);
  }, 60_000);
});
