/**
 * Subscriptions over Server-Sent Events (/graphql/stream) with the real graphql-sse client:
 * authentication and the anonymous budget, per-event authorization, live delivery, resume
 * with `after` and with `Last-Event-ID` (no gap, no duplicate), token expiry, the same query
 * limits as HTTP and WebSocket, streams per user, CORS, keep-alive and event ids on the wire.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appointments, videoConsultations } from "../../src/db/schema.js";
import { ConsultationEventsDocument, ConsultationTimelineDocument, MyConsultationEventsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam, createUser } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { refusedStatus, subscribeSse } from "../support/sse.js";

let test: TestDatabase;
let api: TestApi;
let prod: TestApi;
let adminToken: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { SSE_MAX_STREAMS_PER_USER: "3", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000" });
  prod = await startTestApi(test, { NODE_ENV: "production", CORS_ORIGINS: "https://app.clinic.example" });
  adminToken = await api.tokenFor((await createUser(test.database.db, "admin")).id);
});

afterAll(async () => {
  await api?.stop();
  await prod?.stop();
  await test?.close();
});

async function callWithRoom() {
  const t = await createCareTeam(test.database.db);
  const roomId = `room-${t.consultation.id}`;
  await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, t.consultation.id));
  await test.database.db.update(appointments).set({ scheduledAt: new Date() }).where(eq(appointments.id, t.appointment.id));
  return {
    ...t,
    doctorToken: await api.tokenFor(t.doctor.user.id),
    patientToken: await api.tokenFor(t.patient.user.id),
    webhooks: scriptedCall({ roomId, doctorUserId: t.doctor.user.id, patientUserId: t.patient.user.id }, new Date(Date.now() - 3_600_000)),
  };
}

async function logIds(consultationId: string): Promise<string[]> {
  const result = await api.gql(ConsultationTimelineDocument, { id: consultationId, first: 100 }, adminToken);
  return result.data!.consultation!.events.edges.map((e) => e.node.id);
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 300));

describe("authentication", () => {
  it("refuses a missing or invalid token with 401, and 429 once the IP's anonymous budget is spent", async () => {
    const anonymous = subscribeSse(api.url, null, MyConsultationEventsDocument, {});
    expect(refusedStatus(await anonymous.ended)).toBe(401);
    const forged = subscribeSse(api.url, "not.a.token", MyConsultationEventsDocument, {});
    expect(refusedStatus(await forged.ended)).toBe(401);
    const tight = await startTestApi(test, { RATE_LIMIT_ANONYMOUS_PER_MINUTE: "2" });
    try {
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(refusedStatus(await subscribeSse(tight.url, null, MyConsultationEventsDocument, {}).ended));
      expect(statuses).toEqual([401, 401, 429]);
    } finally {
      await tight.stop();
    }
  });

  it("answers NOT_FOUND for another doctor's consultation", async () => {
    const mine = await callWithRoom();
    const theirs = await callWithRoom();
    const s = subscribeSse(api.url, theirs.doctorToken, ConsultationEventsDocument, { consultationId: mine.consultation.id });
    expect(await s.ended).toBe("complete");
    expect(JSON.stringify(s.errors)).toContain("NOT_FOUND");
    expect(s.results).toEqual([]);
  });

  it("ends the stream with UNAUTHENTICATED when the token expires", async () => {
    const call = await callWithRoom();
    const shortLived = await api.tokenFor(call.doctor.user.id, { ttlSeconds: 2 });
    const s = subscribeSse(api.url, shortLived, MyConsultationEventsDocument, {});
    expect(await s.ended).toBe("complete");
    expect(JSON.stringify(s.errors)).toContain("UNAUTHENTICATED");
  }, 15_000);
});

describe("live delivery and resume", () => {
  it("delivers every event of the caller's consultation, in order, and nothing of another's", async () => {
    const call = await callWithRoom();
    const other = await callWithRoom();
    const dashboard = subscribeSse(api.url, call.doctorToken, MyConsultationEventsDocument, {});
    const patientView = subscribeSse(api.url, call.patientToken, ConsultationEventsDocument, { consultationId: call.consultation.id });
    await settle();
    for (const event of other.webhooks) expect(await api.webhook(event)).toBe(200);
    for (const event of call.webhooks) expect(await api.webhook(event)).toBe(200);
    const expected = await logIds(call.consultation.id);
    expect(expected.length).toBeGreaterThanOrEqual(5);
    await dashboard.waitFor(expected.length);
    await patientView.waitFor(expected.length);
    await settle();
    expect(dashboard.results.map((r) => r.myConsultationEvents.id)).toEqual(expected);
    expect(patientView.results.map((r) => r.consultationEvents.id)).toEqual(expected);
    dashboard.dispose();
    patientView.dispose();
    // The aborted requests end their subscriptions on the server.
    await expect.poll(() => api.api.services.metrics.openStreams(), { timeout: 5_000 }).toBe(0);
  });

  it("resumes with `after`, and with Last-Event-ID ahead of a repeated `after`: no gap, no duplicate", async () => {
    const call = await callWithRoom();
    for (const event of call.webhooks.slice(0, 3)) await api.webhook(event);
    const [first, second] = await logIds(call.consultation.id);
    const resumed = subscribeSse(api.url, call.doctorToken, ConsultationEventsDocument, { consultationId: call.consultation.id, after: first! });
    // What a reconnecting client sends: the `after` it first subscribed with, the last id it saw as Last-Event-ID.
    const reconnected = subscribeSse(api.url, call.doctorToken, ConsultationEventsDocument, { consultationId: call.consultation.id, after: first! }, {
      extraHeaders: { "last-event-id": second! },
    });
    await settle();
    for (const event of call.webhooks.slice(3)) await api.webhook(event);
    const all = await logIds(call.consultation.id);
    await resumed.waitFor(all.length - 1);
    await reconnected.waitFor(all.length - 2);
    await settle();
    expect(resumed.results.map((r) => r.consultationEvents.id)).toEqual(all.slice(1));
    expect(reconnected.results.map((r) => r.consultationEvents.id)).toEqual(all.slice(2));
    resumed.dispose();
    reconnected.dispose();
  });

  it("writes keep-alive comments and each event's id on the wire", async () => {
    const call = await callWithRoom();
    await api.webhook(call.webhooks[0]);
    await api.webhook(call.webhooks[1]);
    const [firstId] = await logIds(call.consultation.id);
    const controller = new AbortController();
    const response = await fetch(`${api.url}/graphql/stream`, {
      method: "POST",
      signal: controller.signal,
      headers: { accept: "text/event-stream", "content-type": "application/json", authorization: `Bearer ${call.doctorToken}` },
      body: JSON.stringify({ query: "subscription($c: ID!) { consultationEvents(consultationId: $c, after: null) { id } }", variables: { c: call.consultation.id } }),
    });
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const reader = response.body!.getReader();
    const pending = api.webhook(call.webhooks[2]);
    let text = "";
    while (!/id: [^\n]+\nevent: next\n/.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    await pending;
    controller.abort();
    expect(text.startsWith(":\n\n")).toBe(true);
    const [, secondId] = await logIds(call.consultation.id);
    expect(secondId).not.toBe(firstId);
    expect(text).toContain(`id: ${secondId}\nevent: next\ndata: {"data":{"consultationEvents":{"id":"${secondId}"}}}`);
  });
});

const deep = (levels: number) => {
  let inner = "id";
  for (let i = 0; i < levels; i++) inner = i % 2 === 0 ? `consultation { ${inner} }` : `appointment { ${inner} }`;
  return inner;
};

/** The WebSocket documents of test/api/limits.test.ts. */
const OVER_LIMITS = {
  depth: `subscription { myConsultationEvents { ${deep(14)} } }`,
  aliases: `subscription { myConsultationEvents { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(" ")} } }`,
  cost: `subscription { myConsultationEvents { consultation { events(first: 100) { edges { node { consultation { events(first: 100) { edges { node { id } } } } } } } } } }`,
  tokens: `subscription { myConsultationEvents { ${"id ".repeat(2100)} } }`,
};

describe("limits", () => {
  it.each(Object.entries(OVER_LIMITS))("refuses a document over the %s limit, without revealing it in production", async (name, query) => {
    const team = await createCareTeam(test.database.db);
    for (const instance of [api, prod]) {
      const s = subscribeSse(instance.url, await instance.tokenFor(team.doctor.user.id), query, {});
      expect(await s.ended).toBe("complete");
      const error = s.errors[0] as { message: string; extensions: { code: string } };
      expect(["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]).toContain(error.extensions.code);
      if (instance === prod && name !== "tokens") expect(error.message).not.toMatch(/\d/);
    }
  });

  it("answers a query with one result, then completes", async () => {
    const team = await createCareTeam(test.database.db);
    const s = subscribeSse(api.url, await api.tokenFor(team.doctor.user.id), "{ me { id } }", {});
    expect(await s.ended).toBe("complete");
    expect(s.errors).toEqual([]);
    expect(s.results).toEqual([{ me: { id: team.doctor.user.id } }]);
  });

  it("caps open streams per user (429)", async () => {
    const team = await createCareTeam(test.database.db);
    const token = await api.tokenFor(team.doctor.user.id);
    const open = [0, 1, 2].map(() => subscribeSse(api.url, token, MyConsultationEventsDocument, {}));
    await settle();
    const fourth = subscribeSse(api.url, token, MyConsultationEventsDocument, {});
    expect(refusedStatus(await fourth.ended)).toBe(429);
    open[0]!.dispose();
    await expect.poll(async () => {
      const again = subscribeSse(api.url, token, MyConsultationEventsDocument, {});
      const outcome = await Promise.race([again.ended, settle().then(() => "open")]);
      again.dispose();
      return outcome;
    }, { timeout: 5_000 }).toBe("open");
    open.forEach((s) => s.dispose());
  });

  it("answers CORS preflights for the configured origins only", async () => {
    const preflight = (origin: string) =>
      fetch(`${prod.url}/graphql/stream`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, last-event-id" } });
    const allowed = await preflight("https://app.clinic.example");
    expect(allowed.headers.get("access-control-allow-origin")).toBe("https://app.clinic.example");
    expect(allowed.headers.get("access-control-allow-headers")).toContain("last-event-id");
    expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
  });
});
