/**
 * Partner webhooks end to end: admins manage endpoints through the schema, and real HTTP
 * receivers on loopback get every event of their types, signed (checked with the
 * `standardwebhooks` package, as a partner would), thin, in order per consultation, once.
 */
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rowsOf } from "../../src/db/batch-sql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { appendEvents, call, createEndpoint, partnerEnv } from "../support/partner-api.js";
import { startReceiver, type Receiver } from "../support/partner-receiver.js";

let test: TestDatabase;
let api: TestApi;
let admin: string;
let doctor: string;
let adminId: string;
const receivers: Receiver[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
  // Receivers here answer within milliseconds: an attempt that times out is a stalled test
  // process (the embedded database runs in it), and its retry a duplicate the order checks
  // would count. Timeouts and retries have their own tests (partner-outages).
  api = await startTestApi(test, partnerEnv({ PARTNER_WEBHOOKS_TIMEOUT_MS: "60000" }));
  const db = test.database.db;
  adminId = (await createUser(db, "admin")).id;
  admin = await api.tokenFor(adminId);
  doctor = await api.tokenFor((await createCareTeam(db)).doctor.user.id);
});

afterAll(async () => {
  await api?.stop();
  await Promise.all(receivers.map((r) => r.close()));
  await test?.close();
});

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

const ENDPOINTS = "{ partnerEndpoints { id url } }";

describe("partner endpoints, as admins manage them", () => {
  it("are refused to anyone but an admin, and to no one signed in", async () => {
    const operations: Array<[string, Record<string, unknown>]> = [
      [ENDPOINTS, {}],
      ["query ($id: ID!) { partnerEndpoint(id: $id) { id } }", { id: crypto.randomUUID() }],
      ["query ($id: ID!) { partnerDeliveries(endpointId: $id) { edges { cursor } } }", { id: crypto.randomUUID() }],
      ["mutation { createPartnerEndpoint(input: { url: \"https://partner.example/hook\", eventTypes: [STATUS_CHANGED] }) { secret } }", {}],
      ["mutation ($id: ID!) { rotatePartnerEndpointSecret(id: $id) { secret } }", { id: crypto.randomUUID() }],
      ["mutation ($id: ID!) { deletePartnerEndpoint(id: $id) }", { id: crypto.randomUUID() }],
      ["mutation ($id: ID!) { setPartnerEndpointEnabled(id: $id, enabled: false) { id } }", { id: crypto.randomUUID() }],
      ["mutation ($id: ID!) { updatePartnerEndpoint(id: $id, input: { url: \"https://partner.example/other\" }) { id } }", { id: crypto.randomUUID() }],
      ["mutation ($id: ID!) { redeliverPartnerDelivery(id: $id) { id } }", { id: crypto.randomUUID() }],
      ["mutation ($id: ID!) { replayPartnerEndpoint(id: $id, fromTime: \"2026-01-01T00:00:00Z\") { id } }", { id: crypto.randomUUID() }],
    ];
    for (const [query, variables] of operations) {
      expect((await call(api, doctor, query, variables)).codes, query).toEqual(["FORBIDDEN"]);
      const { json } = await api.post({ query, variables });
      expect(json.errors.map((e: any) => e.extensions.code), query).toEqual(["UNAUTHENTICATED"]);
    }
  });

  it("shows the secret once, stores it sealed, and audits every change with the endpoint as its target", async () => {
    const r = await receiver();
    const { id, secret } = await createEndpoint(api, admin, r.url);
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const [row] = rowsOf<{ secret: string }>(await test.database.db.execute(sql`select secret from partner_endpoints where id = ${id}`));
    expect(row!.secret).not.toContain(secret.slice(6));
    expect(row!.secret.startsWith("v1.")).toBe(true);
    const listed = await call(api, admin, ENDPOINTS);
    expect(JSON.stringify(listed.data)).not.toContain(secret);
    const update = await call(api, admin, "mutation ($id: ID!) { updatePartnerEndpoint(id: $id, input: { description: \"billing\" }) { description } }", { id });
    expect(update.data.updatePartnerEndpoint.description).toBe("billing");
    await call(api, admin, "mutation ($id: ID!) { setPartnerEndpointEnabled(id: $id, enabled: false) { enabled disabledReason } }", { id });
    await call(api, admin, "mutation ($id: ID!) { setPartnerEndpointEnabled(id: $id, enabled: true) { enabled } }", { id });
    const rotated = await call(api, admin, "mutation ($id: ID!) { rotatePartnerEndpointSecret(id: $id) { secret endpoint { previousSecretExpiresAt } } }", { id });
    expect(rotated.data.rotatePartnerEndpointSecret.secret).not.toBe(secret);
    expect(rotated.data.rotatePartnerEndpointSecret.endpoint.previousSecretExpiresAt).not.toBeNull();
    expect((await call(api, admin, "mutation ($id: ID!) { deletePartnerEndpoint(id: $id) }", { id })).data.deletePartnerEndpoint).toBe(id);
    expect((await call(api, admin, "query ($id: ID!) { partnerEndpoint(id: $id) { id } }", { id })).data.partnerEndpoint).toBeNull();
    const trail = rowsOf<{ action: string; outcome: string }>(
      await test.database.db.execute(sql`select action, outcome from audit_events where target_id = ${id} and actor_id = ${adminId} order by id`),
    );
    expect(trail.map((t) => `${t.action} ${t.outcome}`)).toEqual([
      "partnerEndpoint.create allowed",
      "partnerEndpoint.update allowed",
      "partnerEndpoint.disable allowed",
      "partnerEndpoint.enable allowed",
      "partnerEndpoint.rotateSecret allowed",
      "partnerEndpoint.delete allowed",
    ]);
    const all = JSON.stringify(rowsOf(await test.database.db.execute(sql`select * from audit_events`)));
    expect(all).not.toContain(secret.slice(6));
  });

  it("refuses invalid input with BAD_USER_INPUT naming the field", async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ url: "ftp://127.0.0.1/x", eventTypes: ["STATUS_CHANGED"] }, "input.url"],
      [{ url: "http://user:pass@127.0.0.1/x", eventTypes: ["STATUS_CHANGED"] }, "input.url"],
      [{ url: "not a url", eventTypes: ["STATUS_CHANGED"] }, "input.url"],
      [{ url: "http://127.0.0.1/x", eventTypes: [] }, "input.eventTypes"],
      [{ url: "http://127.0.0.1/x", eventTypes: ["STATUS_CHANGED"], description: "x".repeat(501) }, "input.description"],
    ];
    for (const [input, field] of cases) {
      const { errors } = await call(api, admin, "mutation ($input: CreatePartnerEndpointInput!) { createPartnerEndpoint(input: $input) { secret } }", { input });
      expect(errors.map((e) => [e.extensions.code, e.extensions.field]), JSON.stringify(input)).toEqual([["BAD_USER_INPUT", field]]);
    }
    expect((await call(api, admin, "query ($id: ID!) { partnerEndpoint(id: $id) { id } }", { id: "nope" })).codes).toEqual(["BAD_USER_INPUT"]);
    expect((await call(api, admin, "mutation ($id: ID!) { deletePartnerEndpoint(id: $id) }", { id: crypto.randomUUID() })).codes).toEqual(["NOT_FOUND"]);
  });
});

describe("deliveries", () => {
  it("sends a signed, thin webhook for a real change, and the partner reads the rest through the schema", async () => {
    const r = await receiver();
    const { secret } = await createEndpoint(api, admin, r.url, ["STATUS_CHANGED"]);
    const team = await createCareTeam(test.database.db);
    const cancelled = await call(api, await api.tokenFor(team.doctor.user.id), "mutation ($id: ID!) { cancelConsultation(consultationId: $id, reason: \"ill\") { id } }", {
      id: team.consultation.id,
    });
    expect(cancelled.codes).toEqual([]);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(1);
    const [delivery] = r.verified(secret);
    expect(delivery!.payload).toEqual({
      type: "consultation.status_changed",
      timestamp: delivery!.payload.data.occurredAt,
      data: {
        eventId: delivery!.id,
        consultationId: team.consultation.id,
        status: "CANCELLED",
        occurredAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/),
        changed: { previousStatus: "PENDING", status: "CANCELLED" },
      },
    });
    const body = r.received[0]!.body;
    for (const secretThing of [team.patient.user.fullName, team.doctor.user.fullName, team.patient.user.email, "ill", secret]) expect(body).not.toContain(secretThing);
    expect(r.received[0]!.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    // The partner's read: the consultation and its timeline after the event, with the admin's token.
    const read = await call(api, admin, "query ($id: ID!) { consultation(id: $id) { status events { edges { node { id type } } } } }", { id: team.consultation.id });
    expect(read.data.consultation.status).toBe("CANCELLED");
    expect(read.data.consultation.events.edges.map((e: any) => e.node.id)).toContain(delivery!.id);
  });

  it("sends each consultation's events in log order, each once, to every endpoint of their type", async () => {
    // Answers at random delays: concurrent sends finish out of order unless each consultation waits its turn.
    const jittered = () => ({ status: 200, delayMs: Math.random() * 15 });
    const [a, b] = [await receiver(jittered), await receiver(jittered)];
    const endpointA = await createEndpoint(api, admin, a.url, ["PARTICIPANT_JOINED", "PARTICIPANT_LEFT"]);
    const endpointB = await createEndpoint(api, admin, b.url, ["PARTICIPANT_JOINED"]);
    const teams = await Promise.all([1, 2, 3].map(() => createCareTeam(test.database.db)));
    // Logged while the endpoints are disabled, so that all of it is due at once when they are enabled.
    const enable = (id: string, enabled: boolean) => call(api, admin, "mutation ($id: ID!, $on: Boolean!) { setPartnerEndpointEnabled(id: $id, enabled: $on) { id } }", { id, on: enabled });
    for (const endpoint of [endpointA, endpointB]) await enable(endpoint.id, false);
    const logged = await Promise.all(teams.map((t) => appendEvents(test.database.db, t.consultation.id, 12)));
    for (const endpoint of [endpointA, endpointB]) await enable(endpoint.id, true);
    await expect.poll(() => a.received.length, { timeout: 15_000 }).toBe(36);
    await expect.poll(() => b.received.length, { timeout: 15_000 }).toBe(18);
    for (const [r, endpoint, every] of [[a, endpointA, 1], [b, endpointB, 2]] as const) {
      const got = r.verified(endpoint.secret);
      teams.forEach((team, i) => {
        const mine = got.map((d, n) => ({ ...d, request: r.received[n]! })).filter((d) => d.payload.data.consultationId === team.consultation.id);
        const expected = logged[i]!.filter((_, n) => n % every === 0);
        expect(mine.map((d) => d.id)).toEqual(expected.map((id) => Buffer.from(`ev1:${id}`).toString("base64url")));
        // One at a time: each event is sent only once the previous one was acknowledged.
        for (let n = 1; n < mine.length; n++) expect(mine[n]!.request.at).toBeGreaterThanOrEqual(mine[n - 1]!.request.answeredAt!);
      });
    }
    const types = new Set(b.verified(endpointB.secret).map((d) => d.payload.type));
    expect([...types]).toEqual(["consultation.participant_joined"]);
    expect(b.verified(endpointB.secret)[0]!.payload.data.changed).toEqual({ side: expect.stringMatching(/^(DOCTOR|PATIENT)$/) });
  });

  it("pages the delivery log, newest first, with each attempt and nothing the partner sent", async () => {
    const r = await receiver(() => ({ status: 200, body: "partner-private-body" }));
    const { id } = await createEndpoint(api, admin, r.url, ["PARTICIPANT_JOINED", "PARTICIPANT_LEFT"]);
    const team = await createCareTeam(test.database.db);
    await appendEvents(test.database.db, team.consultation.id, 5);
    await expect.poll(() => r.received.length, { timeout: 10_000 }).toBe(5);
    const page = (after: string | null) =>
      call(api, admin, "query ($id: ID!, $after: String) { partnerDeliveries(endpointId: $id, first: 2, after: $after) { edges { node { id eventId status attemptCount attempts { attempt statusCode durationMs errorClass } } } pageInfo { hasNextPage endCursor } } }", { id, after });
    await expect.poll(async () => (await page(null)).data.partnerDeliveries.edges[0]?.node.status, { timeout: 10_000 }).toBe("DELIVERED");
    const seen: any[] = [];
    let after: string | null = null;
    for (;;) {
      const { data } = await page(after);
      seen.push(...data.partnerDeliveries.edges.map((e: any) => e.node));
      if (!data.partnerDeliveries.pageInfo.hasNextPage) break;
      after = data.partnerDeliveries.pageInfo.endCursor;
    }
    expect(seen.map((d) => d.eventId)).toEqual(r.received.map((x) => x.headers["webhook-id"]).reverse());
    await expect.poll(async () => JSON.stringify((await page(null)).data)).not.toContain("PENDING");
    expect(seen[0].attempts).toEqual([{ attempt: 1, statusCode: 200, durationMs: expect.any(Number), errorClass: null }]);
    const log = JSON.stringify(rowsOf(await test.database.db.execute(sql`select * from partner_delivery_attempts`)));
    expect(log).not.toContain("partner-private-body");
  });
});
