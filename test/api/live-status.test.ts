/**
 * Webhooks -> presence and lifecycle, over real HTTP. The scripted call ends in the same
 * state, the same events and the same connected time whatever order its webhooks arrive in
 * and however often each is delivered (a property test over random permutations).
 */
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appointments } from "../../src/db/schema.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { SCRIPT, SCRIPT_CONNECTED_SECONDS, scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { orderIndependent, readTimeline } from "../support/timeline.js";

const GRACE_SECONDS = 3;
let test: TestDatabase;
let api: TestApi;
let adminToken: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { COMPLETION_GRACE_SECONDS: String(GRACE_SECONDS) });
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

/** A consultation whose room is `room-<id>`, booked for now. */
const consultationWithRoom = () => createCareTeamWithRoom(test.database.db);

const timeline = (id: string) => readTimeline(api, adminToken, id);
const comparable = orderIndependent;

describe("presence and lifecycle from webhooks", () => {
  it("shows the patient waiting (PENDING), then ACTIVE once the doctor is in too", async () => {
    const c = await consultationWithRoom();
    const [open, patientJoin, doctorJoin] = scriptedCall(c.parties, new Date(Date.now() - 120_000));
    for (const event of [open, patientJoin]) expect(await api.webhook(event)).toBe(200);
    const waiting = await timeline(c.consultation.id);
    expect(waiting.status).toBe("PENDING");
    expect(waiting.participants.map((p) => [p.role, p.online])).toEqual([["DOCTOR", false], ["PATIENT", true]]);
    expect(await api.webhook(doctorJoin)).toBe(200);
    const active = await timeline(c.consultation.id);
    expect(active.status).toBe("ACTIVE");
    expect(active.startedAt).toBe((doctorJoin!.data as { joined_at: string }).joined_at.replace(/\.(\d{3})\d*Z$/, ".$1Z"));
    expect(active.participants.every((p) => p.online)).toBe(true);
    expect(active.connectedSeconds).toBeGreaterThanOrEqual(120 - SCRIPT.doctorJoins - 1);
  });

  it("ends in the same state, events and connected time whatever the delivery order and duplicates", async () => {
    // The call ended just now: completion comes after GRACE_SECONDS, once every delivery is in.
    const start = new Date(Date.now() - SCRIPT.patientLeaves * 1000);
    const runs = fc.sample(
      fc.tuple(fc.shuffledSubarray([0, 1, 2, 3, 4, 5], { minLength: 6, maxLength: 6 }), fc.array(fc.nat(5), { maxLength: 8 })),
      { numRuns: 16, seed: 20261124 },
    );
    const consultations = await Promise.all(runs.map(() => consultationWithRoom()));
    await Promise.all(
      runs.map(async ([order, duplicates], i) => {
        const events = scriptedCall(consultations[i]!.parties, start);
        for (const index of [...order, ...duplicates]) expect(await api.webhook(events[index])).toBe(200);
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 300));
    await api.api.reconciler.runOnce();

    const results = await Promise.all(consultations.map((c) => timeline(c.consultation.id)));
    const first = comparable(results[0]!);
    for (const result of results) expect(comparable(result)).toEqual(first);

    const at = (s: number) => new Date(start.getTime() + s * 1000).toISOString();
    expect(first).toMatchObject({
      status: "COMPLETED",
      startedAt: at(SCRIPT.doctorJoins),
      endedAt: at(SCRIPT.patientLeaves),
      durationSeconds: SCRIPT.patientLeaves - SCRIPT.doctorJoins,
      connectedSeconds: SCRIPT_CONNECTED_SECONDS,
    });
    expect(first.participants.map((p) => [p.role, p.online, p.leftAt])).toEqual([
      ["DOCTOR", false, at(SCRIPT.doctorLeaveReported)],
      ["PATIENT", false, at(SCRIPT.patientLeaves)],
    ]);
    expect(first.events.map((e) => [e.type, e.participant?.role ?? e.previousStatus, e.status, e.occurredAt])).toEqual([
      ["PARTICIPANT_JOINED", "PATIENT", "PENDING", at(0)],
      ["PARTICIPANT_JOINED", "DOCTOR", "PENDING", at(SCRIPT.doctorJoins)],
      ["STATUS_CHANGED", "PENDING", "ACTIVE", at(SCRIPT.doctorJoins)],
      ["PARTICIPANT_LEFT", "DOCTOR", "ACTIVE", at(SCRIPT.doctorLeaveReported)],
      ["PARTICIPANT_LEFT", "PATIENT", "ACTIVE", at(SCRIPT.patientLeaves)],
      ["STATUS_CHANGED", "ACTIVE", "COMPLETED", at(SCRIPT.patientLeaves)],
    ]);
    const [row] = await test.database.db
      .select({ status: appointments.status })
      .from(appointments)
      .where(eq(appointments.id, consultations[0]!.appointment.id));
    expect(row?.status).toBe("completed");
  }, 60_000);

  it("keeps the call ACTIVE when a side rejoins within the grace period", async () => {
    const c = await consultationWithRoom();
    const start = new Date(Date.now() - SCRIPT.patientLeaves * 1000);
    for (const event of scriptedCall(c.parties, start)) expect(await api.webhook(event)).toBe(200);
    const rejoin = scriptedCall(c.parties, new Date())[1]!; // the patient is back in a new session
    expect(await api.webhook(rejoin)).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, GRACE_SECONDS * 1000 + 300));
    await api.api.reconciler.runOnce();
    const state = await timeline(c.consultation.id);
    expect(state.status).toBe("ACTIVE");
    expect(state.participants.find((p) => p.role === "PATIENT")?.online).toBe(true);
  }, 30_000);

  it("records a peer that is neither side without showing it as one", async () => {
    const c = await consultationWithRoom();
    const start = new Date(Date.now() - 60_000);
    const stranger = scriptedCall({ ...c.parties, patientUserId: "someone-else" }, start)[1]!;
    expect(await api.webhook(stranger)).toBe(200);
    const wrongRole = scriptedCall({ ...c.parties, doctorUserId: c.patient.user.id }, start)[2]!; // patient's id, doctor role
    expect(await api.webhook(wrongRole)).toBe(200);
    const state = await timeline(c.consultation.id);
    expect(state.participants.every((p) => !p.online)).toBe(true);
    expect(state.status).toBe("PENDING");
    expect(state.events.edges).toEqual([]);
  });
});
