/**
 * PostgreSQL restarted in the middle of a call, on a private cluster: webhooks that arrive
 * during the outage are answered 503 (never 200), 100ms's retries store them once it is
 * back, /readyz reports the outage while it lasts, the API recovers without a restart of its
 * own, and a subscribed dashboard ends with every event of the call, in order.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmsWebhookEvents } from "../../src/db/schema.js";
import { ConsultationTimelineDocument, MyConsultationEventsDocument, StartConsultationDocument } from "../gql/graphql.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { startHms, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";
import { privatePostgresUnavailable, startPrivatePostgres, type PrivatePostgres } from "../support/private-postgres.js";
import { subscribe } from "../support/ws.js";

const unavailable = privatePostgresUnavailable();
let pg: PrivatePostgres;
let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;

describe.skipIf(unavailable !== null)(`PostgreSQL restarted mid-call${unavailable ? ` (skipped: ${unavailable})` : ""}`, () => {
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    test = await createTestDatabase({ serverUrl: pg.url, driver: "postgres" });
    const started = await startHms();
    hms = started.hms;
    api = await startTestApi(test, started.env);
    // 100ms's schedule (+1 s, +3 s, +10 s), a little faster.
    hms.configureWebhooks({
      url: `${api.url}/webhooks/100ms`,
      headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
      retryDelaysMs: [1000, 2000, 5000],
    });
  }, 60_000);

  afterAll(async () => {
    await api?.stop();
    await hms?.close();
    await test?.close().catch(() => undefined);
    await pg?.destroy();
  });

  it("loses no acknowledged webhook and no event", async () => {
    const call = await videoBooking(test, api);
    const admin = await api.tokenFor((await createUser(test.database.db, "admin")).id);
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: call.appointment.id }, call.doctorToken);
    const { id, roomId } = data!.startConsultation;
    const dashboard = subscribe(api.url, call.doctorToken, MyConsultationEventsDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));

    const patient = await hms.joinPeer(roomId!, { userId: call.patient.user.id, role: "patient" });
    await hms.flushWebhooks();
    await api.settled();

    await pg.stop();
    const doctor = await hms.joinPeer(roomId!, { userId: call.doctor.user.id, role: "doctor" });
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect((await fetch(`${api.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    await pg.start();

    await hms.leavePeer(roomId!, doctor.id);
    await hms.leavePeer(roomId!, patient.id);
    await hms.flushWebhooks();
    await api.settled();
    expect((await fetch(`${api.url}/readyz`)).status).toBe(200);

    const deliveries = hms.webhookDeliveries;
    expect(deliveries.some((d) => d.status === 503)).toBe(true);
    const acknowledged = new Set(deliveries.filter((d) => d.status === 200).map((d) => d.id));
    const sent = hms.sentWebhooks().map((w) => w.id);
    expect([...acknowledged].sort()).toEqual([...sent].sort());
    const stored = new Set((await test.database.db.select({ id: hmsWebhookEvents.id }).from(hmsWebhookEvents)).map((r) => r.id));
    for (const id of acknowledged) expect(stored.has(id)).toBe(true);

    const timeline = await api.gql(ConsultationTimelineDocument, { id, first: 100 }, admin);
    const log = timeline.data!.consultation!.events.edges.map((e) => e.node.id);
    expect(timeline.data!.consultation!.events.edges.map((e) => e.node.type)).toEqual([
      "PARTICIPANT_JOINED",
      "PARTICIPANT_JOINED",
      "STATUS_CHANGED",
      "PARTICIPANT_LEFT",
      "PARTICIPANT_LEFT",
    ]);
    const got = await dashboard.waitFor(log.length, 20_000);
    expect(got.map((r) => r.myConsultationEvents.id)).toEqual(log);
    await dashboard.dispose();
  }, 90_000);
});
