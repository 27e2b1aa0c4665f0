/**
 * A gap-free start across instances (real processes on PostgreSQL): a doctor's dashboard
 * loads its page from instance A and subscribes there with `after: liveCursor`, over
 * graphql-ws and over SSE; A gets SIGKILL before any event reaches it; the call goes on
 * through instance B; the dashboard reconnects to B with the only resume point it has (the
 * cursor) and gets every event after its page, in order, none missing and none twice.
 */
import { eq } from "drizzle-orm";
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/access-token.js";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { ConsultationsDocument, ConsultationTimelineDocument, MyConsultationEventsDocument } from "../gql/graphql.js";
import { TEST_JWT_SECRET } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { subscribeSse } from "../support/sse.js";
import { subscribe } from "../support/ws.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, WEBHOOK_HEADERS, type RealApi } from "./real-api.js";

let test: TestDatabase;
let a: RealApi | undefined;
let b: RealApi | undefined;

describe.skipIf(skipReason !== null)(`liveCursor across a killed instance${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase({ driver: "postgres" });
    const env = realApiEnv(test.url!, { RECONCILE_INTERVAL_SECONDS: "0" });
    [a, b] = await Promise.all([startRealApi(env), startRealApi(env)]);
  }, 60_000);

  afterAll(async () => {
    await ensureStopped(a);
    await ensureStopped(b);
    await test?.close();
  });

  const gql = async (url: string, token: string, query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    });
    return ((await response.json()) as { data: any }).data;
  };

  const webhook = async (url: string, body: unknown) => {
    const response = await fetch(`${url}/webhooks/100ms`, { method: "POST", headers: { "content-type": "application/json", ...WEBHOOK_HEADERS }, body: JSON.stringify(body) });
    expect(response.status).toBe(200);
  };

  it("resumes on another instance from the page's cursor with nothing missed, on graphql-ws and on SSE", async () => {
    const team = await createCareTeam(test.database.db);
    const roomId = `room-${team.consultation.id}`;
    await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, team.consultation.id));
    await test.database.db.update(appointments).set({ scheduledAt: new Date() }).where(eq(appointments.id, team.appointment.id));
    const calls = scriptedCall({ roomId, doctorUserId: team.doctor.user.id, patientUserId: team.patient.user.id }, new Date(Date.now() - 3_600_000));
    const token = await signAccessToken(TEST_JWT_SECRET, team.doctor.user.id);
    const adminToken = await signAccessToken(TEST_JWT_SECRET, (await createUser(test.database.db, "admin")).id);
    const logIds = async (): Promise<string[]> =>
      (await gql(b!.url, adminToken, print(ConsultationTimelineDocument), { id: team.consultation.id, first: 100 })).consultation.events.edges.map((e: { node: { id: string } }) => e.node.id);

    // Before the page: the patient is in the room (the page shows it).
    for (const body of calls.slice(0, 2)) await webhook(a!.url, body);
    await expect.poll(async () => (await logIds()).length, { timeout: 10_000 }).toBe(1); // applied: PARTICIPANT_JOINED
    const before = await logIds();
    const page = await gql(a!.url, token, print(ConsultationsDocument), { first: 20 });
    const cursor: string = page.consultations.liveCursor;
    expect(page.consultations.edges.map((e: { node: { id: string } }) => e.node.id)).toContain(team.consultation.id);

    const overWs = subscribe(a!.url, token, MyConsultationEventsDocument, { after: cursor });
    const overSse = subscribeSse(a!.url, token, MyConsultationEventsDocument, { after: cursor });
    await new Promise((resolve) => setTimeout(resolve, 500)); // both subscribed on A
    a!.process.child.kill("SIGKILL");
    await a!.process.exited;
    expect(await overWs.closed).toBe(1006);
    await overSse.ended;
    expect([...overWs.results, ...overSse.results]).toEqual([]); // nothing had reached them

    // The call goes on while the dashboard is away; then it reconnects to B, resuming where it can.
    for (const body of calls.slice(2)) await webhook(b!.url, body);
    // The whole scripted call logs 5 events: both joins, ACTIVE, both leaves.
    await expect.poll(async () => (await logIds()).length, { timeout: 10_000 }).toBe(5);
    const expected = (await logIds()).slice(before.length);
    const resumeAfter = (results: { myConsultationEvents: { id: string } }[]) => results.at(-1)?.myConsultationEvents.id ?? cursor;
    const wsAgain = subscribe(b!.url, token, MyConsultationEventsDocument, { after: resumeAfter(overWs.results) });
    const sseAgain = subscribeSse(b!.url, token, MyConsultationEventsDocument, { after: resumeAfter(overSse.results) });
    await wsAgain.waitFor(expected.length, 15_000);
    await sseAgain.waitFor(expected.length, 15_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(wsAgain.results.map((r) => r.myConsultationEvents.id)).toEqual(expected);
    expect(sseAgain.results.map((r) => r.myConsultationEvents.id)).toEqual(expected);
    await wsAgain.dispose();
    sseAgain.dispose();
  }, 60_000);
});
