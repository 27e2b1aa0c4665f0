/** /metrics exposes every series operators need, each moved by the thing it counts. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MyConsultationEventsDocument, MeDocument, StartConsultationDocument } from "../gql/graphql.js";
import { TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { entry, SYSTEM_ACTOR } from "../../src/audit/audit.model.js";
import type { TestDatabase } from "../support/db.js";
import { startVideoStack, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";
import { subscribe } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack({ METRICS_TOKEN: "metrics-token" }));
  hms.configureWebhooks({ url: `${api.url}/webhooks/100ms`, headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }, retryDelaysMs: [50, 100, 200] });
});

afterAll(async () => {
  await stop?.();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${api.url}/metrics`, { headers: { authorization: "Bearer metrics-token" } });
  expect(response.status).toBe(200);
  return response.text();
}

const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(series + " ") || l.startsWith(series + "{") && l.includes(series));
  return line ? Number(line.split(" ").at(-1)) : Number.NaN;
};

describe("/metrics", () => {
  it("requires the metrics token when one is configured", async () => {
    expect((await fetch(`${api.url}/metrics`)).status).toBe(401);
  });

  it("exposes request durations, webhooks, sockets, subscriptions, delivery lag, 100ms calls, corrections and audit failures", async () => {
    const call = await videoBooking(test, api);
    await api.gql(MeDocument, {}, call.doctorToken);
    const dashboard = subscribe(api.url, call.doctorToken, MyConsultationEventsDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = await api.gql(StartConsultationDocument, { appointmentId: call.appointment.id }, call.doctorToken);
    const roomId = started.data!.startConsultation.roomId!;
    const peer = await hms.joinPeer(roomId, { userId: call.patient.user.id, role: "patient" });
    await hms.flushWebhooks();
    await api.settled();
    await dashboard.waitFor(1);
    hms.dropNextWebhooks(2);
    await hms.leavePeer(roomId, peer.id);
    await hms.flushWebhooks();
    await api.settled();
    await api.api.reconciler.runOnce();
    // A record the database refuses (its outcome fails the CHECK): the failure is counted.
    api.api.services.audit.enqueue({ ...entry(SYSTEM_ACTOR, "probe", {}), outcome: "bogus" as never });
    await api.api.services.audit.flush();

    const text = await scrape();
    expect(text).toMatch(/graphql_request_duration_seconds_count\{operation="Me",outcome="ok"\} [1-9]/);
    expect(text).toMatch(/hms_webhooks_total\{type="peer.join.success",outcome="applied"\} 1/);
    expect(text).toMatch(/hms_webhooks_total\{type="session.open.success",outcome="applied"\} 1/);
    expect(value(text, "websocket_connections")).toBeGreaterThanOrEqual(1);
    expect(value(text, "graphql_active_subscriptions")).toBe(1);
    expect(value(text, "event_delivery_lag_seconds_count")).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(/hms_api_calls_total\{endpoint="[a-zA-Z]+",status="200"\} [1-9]/);
    expect(value(text, "reconciliation_corrections_total")).toBe(1);
    // The open and the join went through batches, one or two depending on when each arrived.
    expect(value(text, "hms_webhook_batch_size_count")).toBeGreaterThanOrEqual(1);
    expect(value(text, "hms_webhook_batch_size_sum")).toBeGreaterThanOrEqual(2);
    expect(value(text, "hms_webhooks_queued")).toBe(0);
    expect(value(text, "audit_write_failures_total")).toBeGreaterThanOrEqual(1);
    expect(text).toContain("process_resident_memory_bytes");
    await dashboard.dispose();
  }, 30_000);
});
