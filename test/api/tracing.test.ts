/**
 * OpenTelemetry traces (docs/tracing.md), on real processes exporting to an OTLP/HTTP receiver
 * on loopback: two instances on one database, A applying webhooks on its worker thread and B
 * inline, with a dashboard subscribed on each. One webhook received by A is one trace: its
 * receipt, the inbox write, the apply (on A's thread), the log append and its NOTIFY statement,
 * and on each instance the hub's receive and the frame pushed. A GraphQL query is a span named
 * by its operation, with its statements as children. With OTEL_SDK_DISABLED, nothing is sent.
 */
import { print } from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAccessToken } from "../../src/auth/access-token.js";
import { MeDocument, MyConsultationEventsDocument } from "../gql/graphql.js";
import { TEST_JWT_SECRET } from "../support/api.js";
import { createCareTeamWithRoom } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "../support/otlp-receiver.js";
import { subscribeSse } from "../support/sse.js";
import { subscribe } from "../support/ws.js";
import { ensureStopped, realApiEnv, skipReason, startRealApi, WEBHOOK_HEADERS, type RealApi } from "../faults/real-api.js";

let test: TestDatabase;
let receiver: OtlpReceiver;
let a: RealApi | undefined;
let b: RealApi | undefined;

const instanceOf = (span: ReceivedSpan) => span.resource["service.instance.id"];
const named = (spans: ReceivedSpan[], name: string) => spans.filter((s) => s.name === name);

async function webhook(url: string, body: unknown): Promise<void> {
  const response = await fetch(`${url}/webhooks/100ms`, { method: "POST", headers: { "content-type": "application/json", ...WEBHOOK_HEADERS }, body: JSON.stringify(body) });
  expect(response.status).toBe(200);
}

async function query(url: string, token: string, document: string): Promise<unknown> {
  const response = await fetch(`${url}/graphql`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: JSON.stringify({ query: document }) });
  return ((await response.json()) as { data: unknown }).data;
}

describe.skipIf(skipReason !== null)(`traces over OTLP${skipReason ? ` (${skipReason})` : ""}`, () => {
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    test = await createTestDatabase({ driver: "postgres" });
    const env = realApiEnv(test.url!, { RECONCILE_INTERVAL_SECONDS: "0", OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: "50" });
    [a, b] = await Promise.all([startRealApi({ ...env, WEBHOOK_APPLY: "worker" }), startRealApi(env)]);
  }, 60_000);

  afterAll(async () => {
    await ensureStopped(a);
    await ensureStopped(b);
    await test?.close();
    await receiver?.close();
  });

  it("follows a webhook from its receipt on one instance to the frames pushed on both, in one trace", async () => {
    const team = await createCareTeamWithRoom(test.database.db);
    const token = await signAccessToken(TEST_JWT_SECRET, team.doctor.user.id);
    const onA = subscribe(a!.url, token, MyConsultationEventsDocument, {});
    const onB = subscribeSse(b!.url, token, MyConsultationEventsDocument, {});
    // Each subscription's set-up is a span: once both are exported, both streams listen.
    const setUps = named(await receiver.waitFor((spans) => new Set(named(spans, "subscription MyConsultationEvents").map(instanceOf)).size === 2), "subscription MyConsultationEvents");
    expect(setUps[0]).toMatchObject({ kind: 2, parentSpanId: null, attributes: { "graphql.operation.type": "subscription", "graphql.operation.name": "MyConsultationEvents" } });

    const calls = scriptedCall(team.parties, new Date(Date.now() - 600_000));
    const patientJoins = calls[1]!;
    await webhook(a!.url, patientJoins);
    const [onAFrame] = await onA.waitFor(1, 15_000);
    const [onBFrame] = await onB.waitFor(1, 15_000);
    expect(onAFrame!.myConsultationEvents.type).toBe("PARTICIPANT_JOINED");
    expect(onBFrame!.myConsultationEvents.id).toBe(onAFrame!.myConsultationEvents.id);

    const receipt = (await receiver.waitFor((spans) => spans.some((s) => s.attributes["hms.webhook.id"] === patientJoins.id)))
      .find((s) => s.attributes["hms.webhook.id"] === patientJoins.id)!;
    expect(receipt).toMatchObject({ name: "POST /webhooks/100ms", kind: 2, parentSpanId: null });
    expect(receipt.attributes).toMatchObject({ "hms.webhook.type": "peer.join.success", "http.response.status_code": 200 });
    const inTrace = (spans: ReceivedSpan[]) => spans.filter((s) => s.traceId === receipt.traceId);
    // Both instances' frames: a push span each, under a receive span each. The apply's span ends
    // after its COMMIT, so it may be exported after the frames it caused: wait for it too.
    const spans = inTrace(await receiver.waitFor((all) =>
      new Set(named(inTrace(all), "consultation_events push").map(instanceOf)).size === 2 && named(inTrace(all), "webhook apply").length > 0));
    const one = (name: string) => {
      const found = named(spans, name);
      expect(found, name).toHaveLength(1);
      return found[0]!;
    };
    const byId = new Map(spans.map((s) => [s.spanId, s]));

    expect(one("webhook inbox store").parentSpanId).toBe(receipt.spanId);
    const apply = one("webhook apply");
    expect(apply.parentSpanId).toBe(receipt.spanId);
    expect(apply.resource["thread.name"]).toBe("webhook-apply"); // A applies on its thread: the context crossed to it
    expect(instanceOf(apply)).toBe(instanceOf(receipt));
    expect(apply.attributes["hms.webhook.ids"]).toEqual([patientJoins.id]);
    const append = one("consultation_events append");
    let up: ReceivedSpan | undefined = append;
    while (up && up.spanId !== apply.spanId) up = byId.get(up.parentSpanId ?? "");
    expect(up, "the append is under the apply").toBeDefined();
    const notify = spans.filter((s) => s.parentSpanId === append.spanId && String(s.attributes["db.query.text"]).includes("pg_notify"));
    expect(notify).toHaveLength(1);
    expect(notify[0]!.attributes["db.system.name"]).toBe("postgresql");

    const receives = named(spans, "consultation_events receive");
    expect(receives).toHaveLength(2);
    for (const receive of receives) {
      expect(receive.parentSpanId).toBe(append.spanId);
      expect(receive.attributes).toMatchObject({ "consultation.event.type": "PARTICIPANT_JOINED", "consultation.id": team.consultation.id, "consultation.event.streams": 1 });
      const pushes = named(spans, "consultation_events push").filter((s) => s.parentSpanId === receive.spanId);
      expect(pushes).toHaveLength(1);
      expect(instanceOf(pushes[0]!)).toBe(instanceOf(receive));
      expect(pushes[0]!.attributes["consultation.event.id"]).toBe(receive.attributes["consultation.event.id"]);
    }
    expect(new Set(receives.map(instanceOf)).size).toBe(2);

    // Ids and types only: no name, token or 100ms payload in any span.
    const exported = JSON.stringify(receiver.spans());
    for (const secret of [team.patient.user.fullName, team.doctor.user.fullName, token, "Patient"]) expect(exported).not.toContain(secret);
    await onA.dispose();
    onB.dispose();
  }, 60_000);

  it("applies inline in the webhook's trace too", async () => {
    const team = await createCareTeamWithRoom(test.database.db);
    const [, patientJoins] = scriptedCall(team.parties, new Date(Date.now() - 600_000));
    await webhook(b!.url, patientJoins);
    const spans = await receiver.waitFor((all) => {
      const receipt = all.find((s) => s.attributes["hms.webhook.id"] === patientJoins!.id);
      return !!receipt && all.some((s) => s.name === "consultation_events append" && s.traceId === receipt.traceId);
    });
    const receipt = spans.find((s) => s.attributes["hms.webhook.id"] === patientJoins!.id)!;
    const apply = spans.find((s) => s.name === "webhook apply" && s.traceId === receipt.traceId)!;
    expect(apply.parentSpanId).toBe(receipt.spanId);
    expect(apply.resource["thread.name"]).toBeUndefined();
  }, 30_000);

  it("names a GraphQL query's span by its operation, with its statements as children", async () => {
    const team = await createCareTeamWithRoom(test.database.db);
    const token = await signAccessToken(TEST_JWT_SECRET, team.doctor.user.id);
    expect(await query(a!.url, token, print(MeDocument))).toMatchObject({ me: { id: team.doctor.user.id } });
    const spans = await receiver.waitFor((all) => {
      const op = all.find((s) => s.name === "query Me");
      return !!op && all.some((s) => s.parentSpanId === op.spanId && s.attributes["db.system.name"] === "postgresql");
    });
    const op = spans.find((s) => s.name === "query Me")!;
    expect(op).toMatchObject({ kind: 2, parentSpanId: null });
    expect(op.attributes).toMatchObject({ "graphql.operation.type": "query", "graphql.operation.name": "Me", "http.response.status_code": 200 });
    const statements = spans.filter((s) => s.parentSpanId === op.spanId && s.attributes["db.system.name"] === "postgresql");
    expect(statements.length).toBeGreaterThan(0);
    // The parameterised text only: the user's id is a parameter, never in the text.
    for (const statement of statements) expect(String(statement.attributes["db.query.text"])).not.toContain(team.doctor.user.id);
  }, 30_000);

  it("sends nothing when OTEL_SDK_DISABLED is true, endpoint or not", async () => {
    const quiet = await startOtlpReceiver();
    let c: RealApi | undefined;
    try {
      c = await startRealApi(realApiEnv(test.url!, { RECONCILE_INTERVAL_SECONDS: "0", OTEL_EXPORTER_OTLP_ENDPOINT: quiet.url, OTEL_SDK_DISABLED: "true", OTEL_BSP_SCHEDULE_DELAY: "50" }));
      const team = await createCareTeamWithRoom(test.database.db);
      await webhook(c.url, scriptedCall(team.parties, new Date())[1]);
      await query(c.url, await signAccessToken(TEST_JWT_SECRET, team.doctor.user.id), print(MeDocument));
      // A graceful stop flushes what an exporter would hold: after it, nothing can still come.
      expect(await c.process.stop("SIGTERM")).toBe(0);
      expect(quiet.requests()).toBe(0);
      expect(c.process.output()).not.toContain("tracing on");
    } finally {
      await ensureStopped(c);
      await quiet.close();
    }
  }, 60_000);
});
