/**
 * The record a clinic bills on, whatever 100ms does: the issue-14 call, each webhook delivered
 * once or twice in random order, with reconciler passes in between while the stand-in's
 * active-room view follows the script's clock (so the reconciler infers leaves whose own
 * webhooks are still in flight). Every run must end with the same times, the same timeline
 * and 570 connected seconds.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsultationAttendanceDocument, StartConsultationDocument } from "../gql/graphql.js";
import type { TestApi } from "../support/api.js";
import { BILLING, billingCall } from "../support/billing-call.js";
import { createUser } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { startVideoStack, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";
import type { StandInRoom } from "../support/hms-stand-in-model.js";
import { orderIndependent, readTimeline } from "../support/timeline.js";

const GRACE_SECONDS = 2;
const RUNS = 20;
let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;
let adminToken: string;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack({ COMPLETION_GRACE_SECONDS: String(GRACE_SECONDS) }));
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await stop?.();
});

/** Reconciler passes, one after the other (a pass that finds the lock taken would be no pass). */
let passes: Promise<unknown> = Promise.resolve();
const reconcile = () => (passes = passes.then(() => api.api.reconciler.runOnce()));

async function startedCall() {
  const t = await videoBooking(test, api);
  const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
  const roomId = data!.startConsultation.roomId!;
  return { consultationId: data!.startConsultation.id, roomId, parties: { roomId, doctorUserId: t.doctor.user.id, patientUserId: t.patient.user.id } };
}

type Run = [order: number[], duplicates: number[], reconcileAfter: boolean[], gaps: number[]];

/** Delivers the call's webhooks in `order` (then the duplicates), the script's clock advancing with each. */
async function play(run: Run, twoDevices: boolean, start: Date) {
  const call = await startedCall();
  const script = billingCall(call.parties, start, twoDevices);
  const room = hms.rooms.get(call.roomId) as StandInRoom;
  const deliveries = [...run[0], ...run[1]].map((i) => script.webhooks[i % script.webhooks.length]!);
  for (const [k, webhook] of deliveries.entries()) {
    script.showAt(room, (BILLING.scriptSeconds * k) / deliveries.length);
    expect(await api.webhook(webhook)).toBe(200);
    if (run[2][k]) await reconcile();
    await new Promise((resolve) => setTimeout(resolve, run[3][k] ?? 0));
  }
  script.showAt(room, BILLING.scriptSeconds);
  await reconcile();
  return call.consultationId;
}

function runs(webhookCount: number, seed: number): Run[] {
  const indexes = [...Array(webhookCount).keys()];
  return fc.sample(
    fc.tuple(
      fc.shuffledSubarray(indexes, { minLength: webhookCount, maxLength: webhookCount }),
      fc.array(fc.nat(webhookCount - 1), { maxLength: webhookCount }),
      fc.array(fc.boolean(), { minLength: 2 * webhookCount, maxLength: 2 * webhookCount }),
      fc.array(fc.nat(60), { minLength: 2 * webhookCount, maxLength: 2 * webhookCount }),
    ),
    { numRuns: RUNS, seed },
  );
}

async function scenario(twoDevices: boolean, seed: number) {
  const start = new Date(Date.now() - BILLING.scriptSeconds * 1000);
  const webhookCount = 2 + 2 * (twoDevices ? 4 : 3);
  const ids = await Promise.all(runs(webhookCount, seed).map((run) => play(run, twoDevices, start)));
  // The grace period, counted from the last delivery, then a pass that completes the calls.
  await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 300));
  await reconcile();
  const results = await Promise.all(ids.map((id) => readTimeline(api, adminToken, id)));
  const at = (s: number) => new Date(start.getTime() + s * 1000).toISOString();
  const first = orderIndependent(results[0]!);
  expect(first).toMatchObject({
    status: "COMPLETED",
    startedAt: at(BILLING.doctorJoins),
    endedAt: at(BILLING.sessionEnds),
    durationSeconds: BILLING.sessionEnds - BILLING.doctorJoins,
    connectedSeconds: BILLING.connectedSeconds,
  });
  expect(first.events.map((e) => [e.type, e.participant?.role ?? e.previousStatus, e.status, e.occurredAt])).toEqual([
    ["PARTICIPANT_JOINED", "PATIENT", "PENDING", at(0)],
    ["PARTICIPANT_JOINED", "DOCTOR", "PENDING", at(60)],
    ["STATUS_CHANGED", "PENDING", "ACTIVE", at(60)],
    ["PARTICIPANT_LEFT", "DOCTOR", "ACTIVE", at(600)],
    ["PARTICIPANT_JOINED", "DOCTOR", "ACTIVE", at(620)],
    ["PARTICIPANT_LEFT", "DOCTOR", "ACTIVE", at(650)],
    ["PARTICIPANT_LEFT", "PATIENT", "ACTIVE", at(700)],
    ["STATUS_CHANGED", "ACTIVE", "COMPLETED", at(700)],
  ]);
  for (const result of results) expect(orderIndependent(result)).toEqual(first);
  for (const id of ids) await expectLedgerOf570(id, twoDevices);
}

/** The attendance ledger: every connection reported, each on its own join and leave, and overlaps that add up to the bill. */
async function expectLedgerOf570(id: string, twoDevices: boolean) {
  const { data, errors } = await api.gql(ConsultationAttendanceDocument, { id }, adminToken);
  expect(errors).toBeUndefined();
  const { connectedSeconds, attendance } = data!.consultation!;
  const ledger = attendance!;
  expect(ledger.overlaps.reduce((sum, o) => sum + o.seconds, 0)).toBe(BILLING.connectedSeconds);
  expect(ledger.connectedSeconds).toBe(BILLING.connectedSeconds);
  expect(connectedSeconds).toBe(BILLING.connectedSeconds);
  expect([ledger.doctor.length, ledger.patient.length]).toEqual([2, twoDevices ? 2 : 1]);
  for (const interval of [...ledger.doctor, ...ledger.patient]) {
    expect(interval).toMatchObject({ source: "REPORTED", to: expect.any(String) });
    expect(interval.webhookIds).toHaveLength(2); // its peer.join.success and its peer.leave.success
  }
  const behind = new Set([...ledger.doctor, ...ledger.patient].flatMap((i) => i.webhookIds));
  for (const overlap of ledger.overlaps) {
    expect(overlap.webhookIds.length).toBeGreaterThanOrEqual(4);
    expect(overlap.webhookIds.every((w) => behind.has(w))).toBe(true);
  }
}

describe("the billed record of a call, with the reconciler running while webhooks trickle in", () => {
  it("one device per side: started at 60 s, 570 connected seconds, the same timeline every time", async () => {
    await scenario(false, 14_2026);
  }, 120_000);

  it("two patient devices overlapping by 30 s: the same record", async () => {
    await scenario(true, 14_2027);
  }, 120_000);
});
