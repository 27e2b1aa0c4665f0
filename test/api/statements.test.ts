/**
 * What the README promises about SQL, pinned: a dashboard page is the viewer and the page
 * (+1 audit insert, written after the answer) whatever its size; the statements behind the
 * hot paths have texts that do not depend on how many ids they carry (each connection
 * prepares a bounded set); and on PostgreSQL drizzle's statements really run prepared.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDatabase } from "../../src/db/client.js";
import { createRepos } from "../../src/app/repos.js";
import { WebhookProcessor } from "../../src/webhooks/webhook-processor.js";
import type { Envelope } from "../../src/webhooks/envelope.js";
import { EventLogRepo } from "../../src/live/event-log.repo.js";
import { ConsultationsDocument, MyConsultationEventsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom, createConsultation, createDoctor, createPatient } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase, NEEDS_POSTGRES } from "../support/db.js";
import { subscribe } from "../support/ws.js";

/**
 * In-process work is recorded per async context, so background work (the event hub's reads)
 * is not counted; a request served over HTTP runs in the server's context, so while one is
 * measured every statement is recorded (nothing else runs then).
 */
const recording = new AsyncLocalStorage<string[]>();
let everything: string[] | null = null;
let test: TestDatabase;
let api: TestApi;
let doctorToken: string;
const rooms: Array<Awaited<ReturnType<typeof createCareTeamWithRoom>>> = [];

/** The statements drizzle sends while `work` runs (BEGIN and COMMIT are not seen). */
async function statementsOf(work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  await recording.run(seen, work);
  return seen;
}

async function allStatementsDuring(work: () => Promise<unknown>): Promise<string[]> {
  everything = [];
  try {
    await work();
    return everything;
  } finally {
    everything = null;
  }
}

const isAudit = (text: string) => /insert into "audit_events"/i.test(text);
/**
 * The event hub's safety-net read of the log, every 5 s whatever else happens (LISTEN's
 * backstop): it lands inside a measured request now and then, more often the slower the
 * machine (the flake of a loaded run: 3 statements for a page). No dashboard read starts here.
 */
const isHubPoll = (text: string) => /from "consultation_events" inner join "video_consultations"/i.test(text);

beforeAll(async () => {
  test = await createTestDatabase({ onQuery: (text) => (recording.getStore() ?? everything)?.push(text) });
  api = await startTestApi(test, { COMPLETION_GRACE_SECONDS: "3600" });
  const db = test.database.db;
  const doctor = await createDoctor(db);
  doctorToken = await api.tokenFor(doctor.user.id);
  for (let i = 0; i < 100; i++) {
    const patient = await createPatient(db);
    await createConsultation(db, { doctorId: doctor.doctor.id, patientId: patient.patient.id, scheduledAt: new Date(Date.UTC(2026, 11, 1) + i * 3_600_000) });
  }
  for (let i = 0; i < 100; i++) rooms.push(await createCareTeamWithRoom(db));
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

describe("a dashboard page", () => {
  it("is exactly the viewer and the page, then one audit insert, for 1, 10 and 100 rows", async () => {
    for (const first of [1, 10, 100]) {
      await api.api.services.audit.flush();
      const inRequest = await allStatementsDuring(async () => {
        const result = await api.gql(ConsultationsDocument, { first }, doctorToken);
        expect(result.data?.consultations.edges).toHaveLength(first);
      });
      const background = await allStatementsDuring(() => api.api.services.audit.flush());
      expect(inRequest.filter((s) => !isAudit(s) && !isHubPoll(s))).toHaveLength(2);
      expect([...inRequest, ...background].filter(isAudit)).toHaveLength(1);
    }
  });
});

describe("one consultation with its timeline", () => {
  it("is the viewer, then the consultation with what its fields show and its page of events in one statement, then one audit insert", async () => {
    const team = rooms[99]!;
    const at = Date.now();
    await test.database.db.transaction((tx) =>
      new EventLogRepo(tx).append(Array.from({ length: 20 }, (_, i) => ({
        consultationId: team.consultation.id, type: i % 2 ? "PARTICIPANT_LEFT" : "PARTICIPANT_JOINED", occurredAt: new Date(at + i * 1000),
        status: team.consultation.status, side: i % 4 < 2 ? "patient" : "doctor", peerId: `timeline-${i}`, joinedAt: new Date(at), dedupeKey: `timeline:${team.consultation.id}:${i}`,
      }))),
    );
    const token = await api.tokenFor(team.doctor.user.id);
    const query = `query Timeline($id: ID!) { consultation(id: $id) { id status doctor { fullName } patient { fullName }
      appointment { scheduledAt } participants { role state } connectedSeconds
      events(first: 20) { edges { node { id type occurredAt status consultation { id status } participant { role fullName state } } } } } }`;
    await api.api.services.audit.flush();
    const inRequest = await allStatementsDuring(async () => {
      const { json: result } = await api.post({ query, variables: { id: team.consultation.id } }, { authorization: `Bearer ${token}` });
      expect(result.errors).toBeUndefined();
      expect(result.data.consultation.events.edges).toHaveLength(20);
      expect(result.data.consultation.events.edges[0].node.participant.fullName).toBe(team.patient.user.fullName);
    });
    const background = await allStatementsDuring(() => api.api.services.audit.flush());
    const reads = inRequest.filter((s) => !isAudit(s) && !isHubPoll(s));
    expect(reads).toHaveLength(2);
    expect(reads[0]).toMatch(/from "users"/i);
    // The consultation and, in a subquery of the same statement, its page of events.
    expect(reads[1]).toMatch(/from "consultation_events".*\) page\) from "video_consultations"/is);
    expect([...inRequest, ...background].filter(isAudit)).toHaveLength(1);
  });
});

describe("live events", () => {
  /** Subscribes each team's doctor, logs one event per team in one transaction, and counts what delivering them took. */
  async function deliveryStatements(teams: typeof rooms): Promise<string[]> {
    const sockets = await Promise.all(teams.map(async (t) => subscribe(api.url, await api.tokenFor(t.doctor.user.id), MyConsultationEventsDocument, {})));
    try {
      const gauge = api.api.services.metrics.subscriptions;
      for (let waited = 0; (await gauge.get()).values[0]!.value < teams.length; waited += 20) {
        if (waited > 5000) throw new Error("subscriptions did not start");
        await new Promise((r) => setTimeout(r, 20));
      }
      await api.api.services.audit.flush();
      return await allStatementsDuring(async () => {
        const at = new Date();
        await test.database.db.transaction((tx) =>
          new EventLogRepo(tx).append(teams.map((t, i) => ({
            consultationId: t.consultation.id, type: "PARTICIPANT_JOINED", occurredAt: at, status: t.consultation.status,
            side: "patient", peerId: `peer-${i}-${at.getTime()}`, joinedAt: at, dedupeKey: `test:${t.consultation.id}:${at.getTime()}`,
          }))),
        );
        await Promise.all(sockets.map((s) => s.waitFor(1)));
        for (const s of sockets) expect(s.errors).toEqual([]);
      });
    } finally {
      await Promise.all(sockets.map((s) => s.dispose()));
    }
  }

  it("one read of the log is delivered in that one statement, whether it reaches one doctor's dashboard or eight", async () => {
    const one = await deliveryStatements(rooms.slice(90, 91));
    const eight = await deliveryStatements(rooms.slice(91, 99));
    const loads = (statements: string[]) => statements.filter((s) => !isAudit(s) && !/insert into "consultation_events"/i.test(s));
    expect(loads(eight)).toHaveLength(loads(one).length);
    // The hub's read of the log, with the consultations and everything their fields show beside the events.
    expect(loads(eight)).toHaveLength(1);
    expect(loads(eight)[0]).toMatch(/from "consultation_events".*from "video_consultations" inner join "appointments"/s);
  });
});

describe("statement texts", () => {
  const sizes = [1, 10, 100];

  it("do not grow with the number of consultations a webhook batch touches", async () => {
    const texts = [];
    let used = 0;
    for (const size of sizes) {
      const events = rooms.slice(used, used + size).flatMap((t) => scriptedCall(t.parties, new Date(Date.now() - 400_000))) as unknown as Envelope[];
      used += size;
      await createRepos(test.database.db).inbox.storeMany(events);
      const processor = new WebhookProcessor({
        db: test.database.db,
        consultations: createRepos(test.database.db).consultations,
        live: api.api.services.live,
        roles: api.config.video.roles,
      });
      texts.push(new Set(await statementsOf(() => processor.processBatch(events))));
    }
    expect(texts[1]).toEqual(texts[0]);
    expect(texts[2]).toEqual(texts[0]);
  });

  it("do not grow with the number of ids a read or an audit batch carries", async () => {
    const repos = createRepos(test.database.db);
    const ids = rooms.map((t) => t.consultation.id);
    const userIds = rooms.map((t) => t.doctor.user.id);
    const texts = [];
    for (const size of sizes) {
      const some = ids.slice(0, size);
      expect((await repos.clinic.findUsers(userIds.slice(0, size))).map((u) => u.id).sort()).toEqual(userIds.slice(0, size).sort());
      texts.push(
        new Set(
          await statementsOf(async () => {
            const consultations = await repos.consultations.byIds(some);
            await repos.consultations.rowsByIds(some);
            await repos.clinic.doctorsByIds(consultations.map((c) => c.doctorId));
            await repos.clinic.patientsByIds(consultations.map((c) => c.patientId));
            await repos.live.byConsultationIds(some);
            await repos.prescriptions.byConsultationIds(some);
            await repos.eventLog.keysOfMany(some);
            await repos.clinic.findUsers(userIds.slice(0, size));
          }),
        ),
      );
    }
    expect(texts[1]).toEqual(texts[0]);
    expect(texts[2]).toEqual(texts[0]);
  });
});

describe.runIf(Boolean(process.env.TEST_DATABASE_URL || process.env.DATABASE_URL))(`on PostgreSQL${NEEDS_POSTGRES}`, () => {
  it("drizzle's statements run as prepared statements on their connection", async () => {
    const database = await openDatabase({ url: test.url!, poolMax: 1 });
    try {
      const repos = createRepos(database.db);
      const id = rooms[0]!.consultation.id;
      await repos.consultations.byIds([id]);
      await repos.consultations.byIds([id]);
      const prepared = await database.rows<{ statement: string }>(sql`select statement from pg_prepared_statements`);
      const byIds = prepared.filter((p) => /from "video_consultations"/i.test(p.statement));
      expect(byIds.length).toBeGreaterThan(0);
    } finally {
      await database.close();
    }
  });
});
