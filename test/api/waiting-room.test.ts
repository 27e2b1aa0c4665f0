/**
 * The waiting room over HTTP and a subscription: who waits alone in the room and since when,
 * the same whatever order the webhooks arrive in and however often each is delivered; a
 * doctor's dashboard gets it with each pushed event; another user's token sees nothing.
 */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { WaitingEventsDocument, WaitingRoomDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { peerJoinSuccess, peerLeaveSuccess, sessionOpenSuccess, type HmsWebhook } from "../support/hms-webhooks.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let adminToken: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

type Team = Awaited<ReturnType<typeof createCareTeamWithRoom>>;

/** The patient waits from -600 s, the doctor is in from -500 s and drops at -300 s: the patient waits again. */
function droppedDoctor(team: Team, now: number): HmsWebhook[] {
  const at = (s: number) => new Date(now + s * 1000);
  const ctx = { appId: "app-1", accountId: "acct-1" };
  const session = { roomId: team.roomId, roomName: "consultation-x", templateId: "tpl", sessionId: randomUUID().replaceAll("-", "").slice(0, 24), sessionStartedAt: at(-600) };
  const peer = (side: "doctor" | "patient", joined: number) => ({ peerId: randomUUID(), userId: team.parties[`${side}UserId`], userName: side, userData: "", role: side, joinedAt: at(joined) });
  const doctor = peer("doctor", -500);
  return [
    sessionOpenSuccess(ctx, session),
    peerJoinSuccess(ctx, session, peer("patient", -600)),
    peerJoinSuccess(ctx, session, doctor),
    peerLeaveSuccess(ctx, session, doctor, { leftAt: at(-300), reason: "websocket closed" }),
  ];
}

async function waitingRoom(id: string, token = adminToken) {
  const result = await api.gql(WaitingRoomDocument, { id }, token);
  expect(result.errors).toBeUndefined();
  return result.data!.consultation;
}

describe("the waiting room", () => {
  it("shows the patient waiting again since the doctor dropped, whatever the delivery order and duplicates", async () => {
    const now = Date.now();
    const runs = fc.sample(fc.tuple(fc.shuffledSubarray([0, 1, 2, 3], { minLength: 4, maxLength: 4 }), fc.array(fc.nat(3), { maxLength: 4 })), { numRuns: 8, seed: 1027 });
    const teams = await Promise.all(runs.map(() => createCareTeamWithRoom(test.database.db)));
    await Promise.all(runs.map(async ([order, duplicates], i) => {
      const webhooks = droppedDoctor(teams[i]!, now);
      for (const index of [...order, ...duplicates]) expect(await api.webhook(webhooks[index])).toBe(200);
    }));
    for (const team of teams) {
      const c = await waitingRoom(team.consultation.id);
      expect(c).toMatchObject({ status: "ACTIVE", waiting: { role: "PATIENT", userId: team.patient.user.id, fullName: team.patient.user.fullName, since: new Date(now - 300_000).toISOString() } });
      expect(c!.waiting!.seconds).toBeGreaterThanOrEqual(300);
    }
  });

  it("pushes who waits to the doctor's dashboard with each event, and shows another user nothing", async () => {
    const team = await createCareTeamWithRoom(test.database.db);
    const dashboard = subscribe(api.url, await api.tokenFor(team.doctor.user.id), WaitingEventsDocument, { after: encodeEventId(0) });
    const [open, patientJoins, doctorJoins] = droppedDoctor(team, Date.now());
    for (const w of [open, patientJoins]) expect(await api.webhook(w)).toBe(200);
    const own = () => dashboard.results.map((r) => r.myConsultationEvents).filter((e) => e.consultation.id === team.consultation.id);
    await expect.poll(() => own().at(-1)?.consultation.waiting?.role, { timeout: 10_000 }).toBe("PATIENT");
    expect(own().at(-1)!.consultation.waiting!.fullName).toBe(team.patient.user.fullName);
    expect(await api.webhook(doctorJoins)).toBe(200);
    await expect.poll(() => own().some((e) => e.type === "STATUS_CHANGED" && e.consultation.waiting === null), { timeout: 10_000 }).toBe(true);
    await dashboard.dispose();

    const intruder = await createCareTeamWithRoom(test.database.db);
    expect(await waitingRoom(team.consultation.id, await api.tokenFor(intruder.doctor.user.id))).toBeNull();
  });
});
