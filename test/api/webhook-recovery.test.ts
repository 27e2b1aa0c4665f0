/**
 * Recovery that asks 100ms instead of guessing: after the API was down (or unreachable), the
 * failed deliveries are replayed from 100ms's delivery log and settle the record with the
 * reported times; when the replay API fails, the reconciler's inference is the fallback,
 * marked as inferred. Time is compressed: 100ms's retries (+1, +3, +10 s) run at a tenth.
 */
import { eq } from "drizzle-orm";
import { afterEach, describe, expect, it } from "vitest";
import { hmsPeerConnections } from "../../src/db/schema.js";
import { ConsultationTimelineDocument, StartConsultationDocument } from "../gql/graphql.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startHms, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

const RETRIES_MS = [100, 300, 1000];
const REPLAY_PATH = "/v2/analytics/webhooks/replay";
let stack: { test: TestDatabase; hms: HmsStandIn; api: TestApi; env: Record<string, string>; admin: string };

async function startStack() {
  const test = await createTestDatabase();
  const { hms, env } = await startHms();
  const api = await startTestApi(test, { ...env, COMPLETION_GRACE_SECONDS: "1" });
  hms.configureWebhooks({ url: `${api.url}/webhooks/100ms`, headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }, retryDelaysMs: RETRIES_MS });
  const admin = await api.tokenFor((await createUser(test.database.db, "admin")).id);
  stack = { test, hms, api, env, admin };
}

afterEach(async () => {
  await stack.api.stop().catch(() => undefined);
  await stack.hms.close();
  await stack.test.close();
});

async function startedCall() {
  const t = await videoBooking(stack.test, stack.api);
  const { data } = await stack.api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
  return { ...t, id: data!.startConsultation.id, roomId: data!.startConsultation.roomId! };
}

const record = async (id: string) =>
  (await stack.api.gql(ConsultationTimelineDocument, { id, first: 50 }, stack.admin)).data!.consultation!;
const connections = (id: string) =>
  stack.test.database.db.select().from(hmsPeerConnections).where(eq(hmsPeerConnections.consultationId, id));

/** Stops the API (100ms's deliveries fail: connection refused), runs `during`, restarts it on the same port. */
async function outage(during: () => Promise<void>, env: Record<string, string> = {}) {
  const port = new URL(stack.api.url).port;
  await stack.api.stop();
  await during();
  await stack.hms.flushWebhooks(); // every retry has failed: the deliveries are in 100ms's log as failed
  stack.api = await startTestApi(stack.test, { ...stack.env, COMPLETION_GRACE_SECONDS: "1", PORT: port, ...env });
}

async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const at = (base: number, seconds: number) => new Date(base + seconds * 1000);

describe("recovery from 100ms's delivery log", () => {
  it("a call that joined and left while the API was down is exact after restart, from replayed webhooks", async () => {
    await startStack();
    const call = await startedCall();
    // An earlier delivery, so the inbox knows when the API last heard from 100ms.
    const warmup = await stack.hms.joinPeer(call.roomId, { userId: "someone-else", role: "observer" });
    await stack.hms.leavePeer(call.roomId, warmup.id);
    await stack.hms.flushWebhooks();
    const t0 = Date.now() - 30_000;
    await outage(async () => {
      const patient = await stack.hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" }, { at: at(t0, 0) });
      const doctor = await stack.hms.joinPeer(call.roomId, { userId: call.doctor.user.id, role: "doctor" }, { at: at(t0, 3) });
      await stack.hms.leavePeer(call.roomId, doctor.id, { at: at(t0, 20) });
      await stack.hms.leavePeer(call.roomId, patient.id, { at: at(t0, 25) });
    });
    expect(stack.hms.deliveryLog.filter((d) => d.failed)).toHaveLength(6);
    const restarted = Date.now();

    const replays = () => Promise.resolve(stack.hms.webhookDeliveries.filter((d) => d.replay));
    await until(replays, (list) => list.length >= 6, 20_000);
    await stack.api.settled();
    const settled = await connections(call.id);
    await stack.api.api.reconciler.runOnce();
    // Completion waits for the grace period after the room's last delivery (the replay) too.
    const final = await until(() => record(call.id), (r) => r.status === "COMPLETED", 10_000);
    expect(Date.now() - restarted).toBeLessThan(60_000);
    expect(final).toMatchObject({ status: "COMPLETED", startedAt: at(t0, 3).toISOString(), connectedSeconds: 17 });
    expect(final.participants.map((p) => [p.role, p.online, p.joinedAt, p.leftAt])).toEqual([
      ["DOCTOR", false, at(t0, 3).toISOString(), at(t0, 20).toISOString()],
      ["PATIENT", false, at(t0, 0).toISOString(), at(t0, 25).toISOString()],
    ]);
    expect(settled.every((r) => r.source === "webhook" && r.leftReason === "client request")).toBe(true);
    const replayed = await replays();
    expect(replayed.map((d) => d.id).sort()).toEqual(stack.hms.deliveryLog.filter((d) => d.failed).map((d) => d.event.id).sort());
    expect(replayed.every((d) => d.status === 200)).toBe(true);
  });

  it("when 100ms's replay API fails (503), the reconciler infers from the active room, marked as inferred", async () => {
    await startStack();
    const call = await startedCall();
    const patient = await stack.hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" });
    await stack.hms.flushWebhooks();
    await stack.api.settled();
    stack.hms.failNext(1000, 503, { path: REPLAY_PATH });
    await outage(async () => {
      await stack.hms.joinPeer(call.roomId, { userId: call.doctor.user.id, role: "doctor" });
      await stack.hms.leavePeer(call.roomId, patient.id);
    });
    await stack.api.api.reconciler.runOnce(); // waits for the start-up recovery, which failed too

    const rows = await connections(call.id);
    const doctorRow = rows.find((r) => r.side === "doctor")!;
    const patientRow = rows.find((r) => r.side === "patient")!;
    // Today's markers of an inference (the reconciler's): the row it created, the leave it closed.
    expect(doctorRow.source).toBe("reconcile");
    expect(patientRow.leftReason).toBe("not in the room (reconciled)");
    expect(stack.hms.calls.filter((c) => c.path === REPLAY_PATH).every((c) => c.status === 503)).toBe(true);
    expect(stack.hms.calls.filter((c) => c.path === REPLAY_PATH).length).toBeGreaterThanOrEqual(2);
    expect(stack.hms.webhookDeliveries.some((d) => d.replay)).toBe(false);
  });

  it("the reconciler asks for a replay when a room disagrees with 100ms, and does not guess meanwhile", async () => {
    await startStack();
    const call = await startedCall();
    const patient = await stack.hms.joinPeer(call.roomId, { userId: call.patient.user.id, role: "patient" });
    await stack.hms.flushWebhooks();
    await stack.api.settled();
    // The network between 100ms and the API breaks while the patient leaves.
    const target = { url: `${stack.api.url}/webhooks/100ms`, headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }, retryDelaysMs: RETRIES_MS };
    stack.hms.configureWebhooks({ ...target, url: "http://127.0.0.1:9/unreachable" });
    const leftAt = new Date(Date.now() - 5_000);
    await stack.hms.leavePeer(call.roomId, patient.id, { at: leftAt });
    await stack.hms.flushWebhooks();
    stack.hms.configureWebhooks(target);

    const report = await stack.api.api.reconciler.runOnce();
    expect(report.corrections).toBe(0); // a replay was asked for instead
    const row = await until(async () => (await connections(call.id))[0]!, (r) => r.leftAt !== null, 10_000);
    expect(row).toMatchObject({ leftAt, leftReason: "client request", source: "webhook" });
    await stack.api.settled();
    expect((await stack.api.api.reconciler.runOnce()).corrections).toBe(0);
    expect(stack.hms.calls.filter((c) => c.path === REPLAY_PATH)).toHaveLength(1);
  });
});
