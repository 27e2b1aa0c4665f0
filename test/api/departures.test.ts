/**
 * Why a side left and why the call ended, over HTTP and a subscription: a call in which each
 * side leaves in every way 100ms reports gives the same reasons on participants, timeline
 * events and attendance intervals, and the same end reason, whatever order its webhooks
 * arrive in and however often each is delivered; another user's token sees none of it.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { FrontDeskDocument, FrontDeskEventsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { DEPARTURES, departuresCall, END_REASON, endedCall, STALE_MESSAGE } from "../support/frontdesk-call.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let adminToken: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { COMPLETION_GRACE_SECONDS: "1" });
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

async function frontDesk(id: string, token = adminToken) {
  const result = await api.gql(FrontDeskDocument, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.consultation;
}

/** The script's events once all are in: 5 joins, 4 leaves, a failed join, ACTIVE and COMPLETED. */
const SCRIPT_EVENTS = 11;

/**
 * Completed once the grace period has passed, with every webhook applied (a batch that failed
 * on a loaded machine is applied again by the queue or the reconciler's sweep): asked again until so.
 */
async function completed(id: string) {
  await expect.poll(async () => {
    await api.api.reconciler.runOnce();
    const c = (await frontDesk(id))!;
    return `${c.status} ${c.events.edges.length}`;
  }, { timeout: 30_000, interval: 200 }).toBe(`COMPLETED ${SCRIPT_EVENTS}`);
  return (await frontDesk(id))!;
}

const reasonsOf = (c: NonNullable<Awaited<ReturnType<typeof frontDesk>>>) => ({
  endReason: c.endReason,
  participants: c.participants.map((p) => [p.role, p.leftReason, p.leftReasonDetail]),
  events: c.events.edges
    .map(({ node: e }) => [e.occurredAt, e.type, e.participant?.role ?? null, e.participant?.leftReason ?? null, e.participant?.leftReasonDetail ?? null])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1])) || String(a[2]).localeCompare(String(b[2]))),
  attendance: { ...c.attendance!, joinFailures: c.attendance!.joinFailures.map(({ webhookIds: _w, ...f }) => f) },
});

describe("why a side left, and why the call ended", () => {
  it("says the same on participants, events and attendance whatever the delivery order and duplicates", async () => {
    const start = new Date(Date.now() - (DEPARTURES.roomEnded + 5) * 1000);
    const at = (s: number) => new Date(start.getTime() + s * 1000).toISOString();
    // A failed join has no time of its own: the envelope's (whole seconds) is when it failed.
    const failedAt = new Date(Math.floor((start.getTime() + DEPARTURES.joinFails * 1000) / 1000) * 1000).toISOString();
    const runs = fc.sample(
      fc.tuple(fc.shuffledSubarray([...Array(12).keys()], { minLength: 12, maxLength: 12 }), fc.array(fc.nat(11), { maxLength: 8 })),
      { numRuns: 8, seed: 2027 },
    );
    const teams = await Promise.all(runs.map(() => createCareTeamWithRoom(test.database.db)));
    await Promise.all(runs.map(async ([order, duplicates], i) => {
      const webhooks = departuresCall(teams[i]!.parties, start);
      for (const index of [...order, ...duplicates]) expect(await api.webhook(webhooks[index])).toBe(200);
    }));
    const results = [];
    for (const team of teams) results.push(reasonsOf(await completed(team.consultation.id)));
    for (const result of results) expect(result).toEqual(results[0]);

    const first = results[0]!;
    expect(first.endReason).toBe("DOCTOR");
    expect(first.participants).toEqual([["DOCTOR", "CALL_ENDED", END_REASON], ["PATIENT", "CALL_ENDED", END_REASON]]);
    const leaves = first.events.filter((e) => e[1] !== "STATUS_CHANGED" && e[1] !== "PARTICIPANT_JOINED");
    expect(leaves).toEqual([
      [failedAt, "PARTICIPANT_JOIN_FAILED", "PATIENT", "JOIN_FAILED", "role not allowed"],
      [at(DEPARTURES.patientDrops), "PARTICIPANT_LEFT", "PATIENT", "NETWORK", "websocket closed"],
      [at(DEPARTURES.doctorKicked), "PARTICIPANT_LEFT", "DOCTOR", "REMOVED", STALE_MESSAGE],
      [at(DEPARTURES.roomEnded), "PARTICIPANT_LEFT", "DOCTOR", "CALL_ENDED", END_REASON],
      [at(DEPARTURES.roomEnded), "PARTICIPANT_LEFT", "PATIENT", "CALL_ENDED", END_REASON],
    ]);
    expect(first.attendance.doctor.map((i) => [i.from, i.to, i.endReason, i.endReasonDetail])).toEqual([
      [at(DEPARTURES.doctorJoins), at(DEPARTURES.doctorKicked), "REMOVED", STALE_MESSAGE],
      [at(DEPARTURES.doctorBack), at(DEPARTURES.roomEnded), "CALL_ENDED", END_REASON],
    ]);
    expect(first.attendance.patient.map((i) => [i.from, i.to, i.endReason])).toEqual([
      [at(DEPARTURES.patientJoins), at(DEPARTURES.patientDrops), "NETWORK"],
      [at(DEPARTURES.patientBack), at(DEPARTURES.roomEnded), "CALL_ENDED"],
    ]);
    expect(first.attendance.joinFailures).toEqual([{ role: "PATIENT", at: failedAt, detail: "role not allowed" }]);
  }, 90_000);

  it("says EVERYONE_LEFT when both left by themselves and MAX_DURATION when 100ms ended the room at its maximum, whatever the delivery order", async () => {
    const start = new Date(Date.now() - 400_000);
    const MAX = "max duration reached";
    const runs = fc.sample(fc.tuple(fc.boolean(), fc.shuffledSubarray([...Array(7).keys()], { minLength: 7, maxLength: 7 }), fc.array(fc.nat(6), { maxLength: 4 })), { numRuns: 6, seed: 2727 });
    const teams = await Promise.all(runs.map(() => createCareTeamWithRoom(test.database.db)));
    await Promise.all(runs.map(async ([maxDuration, order, duplicates], i) => {
      const webhooks = endedCall(teams[i]!.parties, start, maxDuration ? { maxDuration: MAX } : {});
      for (const index of [...order, ...duplicates].filter((n) => n < webhooks.length)) expect(await api.webhook(webhooks[index])).toBe(200);
    }));
    for (const [i, [maxDuration]] of runs.entries()) {
      const id = teams[i]!.consultation.id;
      await expect.poll(async () => {
        await api.api.reconciler.runOnce();
        return (await frontDesk(id))!.endReason;
      }, { timeout: 30_000, interval: 200 }).toBe(maxDuration ? "MAX_DURATION" : "EVERYONE_LEFT");
      const c = (await frontDesk(id))!;
      expect(c.status).toBe("COMPLETED");
      const expected = maxDuration ? ["CALL_ENDED", MAX] : ["LEFT", "client request"];
      expect(c.participants.map((p) => [p.role, p.leftReason, p.leftReasonDetail])).toEqual([["DOCTOR", ...expected], ["PATIENT", ...expected]]);
      expect([...c.attendance!.doctor, ...c.attendance!.patient].map((x) => x.endReason)).toEqual([expected[0], expected[0]]);
    }
    expect(new Set(runs.map(([maxDuration]) => maxDuration))).toEqual(new Set([true, false]));
  }, 90_000);

  it("pushes why a side left to a subscriber, and tells another user nothing", async () => {
    const team = await createCareTeamWithRoom(test.database.db);
    const doctorToken = await api.tokenFor(team.doctor.user.id);
    const webhooks = departuresCall(team.parties, new Date(Date.now() - 1_000_000));
    const stream = subscribe(api.url, doctorToken, FrontDeskEventsDocument, { consultationId: team.consultation.id, after: encodeEventId(0) });
    for (const w of webhooks.slice(0, 5)) expect(await api.webhook(w)).toBe(200);
    const events = await stream.waitFor(5);
    const dropped = events.map((e) => e.consultationEvents).find((e) => e.type === "PARTICIPANT_LEFT");
    expect(dropped?.participant).toMatchObject({ role: "PATIENT", state: "RECONNECTING", leftReason: "NETWORK", leftReasonDetail: "websocket closed" });
    expect(events.map((e) => e.consultationEvents.type)).toContain("PARTICIPANT_JOIN_FAILED");
    await stream.dispose();

    const intruder = await createCareTeamWithRoom(test.database.db);
    const intruderToken = await api.tokenFor(intruder.patient.user.id);
    expect((await api.gql(FrontDeskDocument, { id: team.consultation.id }, intruderToken)).data?.consultation).toBeNull();
    const refused = subscribe(api.url, intruderToken, FrontDeskEventsDocument, { consultationId: team.consultation.id });
    await refused.waitFor(0);
    await expect.poll(() => refused.errors.length, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(JSON.stringify(refused.errors)).toContain("NOT_FOUND");
    expect(refused.results).toEqual([]);
    await refused.dispose();
  }, 30_000);
});
