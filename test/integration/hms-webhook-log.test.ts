/**
 * HmsClient's webhook delivery log and replay against the stand-in (reference §4.1): failed
 * deliveries are logged after 100ms's retries, listed with paging and filters, and replayed
 * at 10 events/s with `is_replay: true` and the same envelope ids; errors are classified and
 * retried as the rest of the client does (a 429 with a long hint is not retried).
 */
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HmsApiError, HmsClient } from "../../src/hms/index.js";
import { startHmsStandIn, type HmsStandIn } from "../support/hms-stand-in.js";

const creds = { accessKey: "64ef0ea4ca5848f0e3d4663a", appSecret: `stand-in-secret-${randomUUID()}` };
let standIn: HmsStandIn;
let receiver: { server: Server; url: string; status: number; bodies: Array<Record<string, unknown>> };

beforeEach(async () => {
  standIn = await startHmsStandIn(creds);
  const state = { status: 503, bodies: [] as Array<Record<string, unknown>> };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (state.status === 200) state.bodies.push(JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>);
      res.writeHead(state.status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver = Object.assign(state, { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook` });
  standIn.configureWebhooks({ url: receiver.url, retryDelaysMs: [10, 30, 100] });
});

afterEach(async () => {
  await standIn.close();
  receiver.server.closeAllConnections();
  await new Promise((resolve) => receiver.server.close(resolve));
});

const client = () => new HmsClient({ ...creds, apiBaseUrl: standIn.baseUrl, retryBaseDelayMs: 1, timeoutMs: 2_000 });

/** A call whose 4 webhooks (open, join, leave, close) all fail, retried 3 times each. */
async function failedCall(hms: HmsClient) {
  const room = await hms.createRoom({ name: `consult-${randomUUID()}` });
  const peer = await standIn.joinPeer(room.id, { userId: "patient-1", role: "patient" });
  await standIn.leavePeer(room.id, peer.id);
  await standIn.flushWebhooks();
  return room;
}

async function rejection(promise: Promise<unknown>): Promise<HmsApiError> {
  const error: unknown = await promise.then(() => null, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(HmsApiError);
  return error as HmsApiError;
}

describe("webhook delivery log", () => {
  it("lists deliveries that failed after 100ms's retries, by page and room", async () => {
    const hms = client();
    const room = await failedCall(hms);
    const other = await failedCall(hms);
    expect(standIn.webhookDeliveries.filter((d) => d.id === standIn.sentWebhooks()[0]!.id).map((d) => d.attempt)).toEqual([1, 2, 3, 4]);

    const first = await hms.listWebhookDeliveries({ status: "failed", limit: 3, page: 1 });
    expect(first).toMatchObject({ page: 1, totalPages: 3, totalItems: 8, hasNext: true });
    const all = [first];
    for (let page = 2; all.at(-1)!.hasNext; page++) all.push(await hms.listWebhookDeliveries({ status: "failed", limit: 3, page }));
    const ids = all.flatMap((p) => p.deliveries.map((d) => d.eventId));
    expect(new Set(ids)).toEqual(new Set(standIn.sentWebhooks().map((e) => e.id)));
    expect(all.flatMap((p) => p.deliveries)[0]).toMatchObject({ eventName: "reporter.webhook.delivery.failed", errorReason: "http 503" });

    const mine = await hms.listWebhookDeliveries({ status: "failed", roomId: room.id, eventNames: ["peer.join.success", "peer.leave.success"] });
    // Logged when each delivery ended: retries run on their own timers, so the order may vary.
    expect(mine.deliveries.map((d) => [d.originalEventName, d.roomId]).sort()).toEqual([
      ["peer.join.success", room.id],
      ["peer.leave.success", room.id],
    ]);
    expect((await hms.listWebhookDeliveries({ status: "success", roomId: other.id })).deliveries).toEqual([]);
    expect(standIn.calls.at(-1)?.path).toBe("/v2/analytics/webhooks");
  });

  it("replays failed deliveries at 10/s with is_replay and the same ids; an identical request while it runs is already_running", async () => {
    const hms = client();
    const room = await failedCall(hms);
    receiver.status = 200;
    const window = { startTime: new Date(Date.now() - 60_000), endTime: new Date(), roomId: room.id };
    const started = await hms.replayWebhooks(window);
    expect(started.status).toBe("started");
    expect(await hms.replayWebhooks(window)).toEqual({ workflowId: started.workflowId, status: "already_running" });

    let progress = await hms.getWebhookReplay(started.workflowId);
    expect(progress.state).toBe("running");
    for (const deadline = Date.now() + 5_000; progress.state === "running" && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      progress = await hms.getWebhookReplay(started.workflowId);
    }
    expect(progress).toMatchObject({ state: "completed", total: 4, completed: 4, failed: 0, failedEventIds: [] });
    // The same deliveries, each once; in the log's order, which is when each delivery gave up
    // (concurrent retries can end out of send order; 100ms documents no replay order).
    expect(receiver.bodies.map((b) => b.id).sort()).toEqual(standIn.sentWebhooks().map((e) => e.id).sort());
    expect(receiver.bodies.every((b) => b.is_replay === true)).toBe(true);
    const replays = standIn.webhookDeliveries.filter((d) => d.replay);
    const gaps = replays.slice(1).map((d, i) => d.at - replays[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(90);
    expect(standIn.calls.find((c) => c.path === "/v2/analytics/webhooks/replay")?.body).toMatchObject({ room_id: room.id, status: "failed" });
  });

  it("classifies errors: 400 and 404 not retried, 429 with its 45 s hint not retried, 503 retried", async () => {
    const hms = client();
    const backwards = { startTime: new Date(), endTime: new Date(Date.now() - 60_000) };
    expect(await rejection(hms.replayWebhooks(backwards))).toMatchObject({ status: 400, retriable: false });
    expect(await rejection(hms.listWebhookDeliveries({ startTime: new Date(Date.now() - 40 * 86_400_000) }))).toMatchObject({ status: 400 });
    expect(await rejection(hms.getWebhookReplay("no-such-workflow"))).toMatchObject({ status: 404, retriable: false });

    const before = standIn.calls.length;
    standIn.failNext(1, 429, { path: "/v2/analytics/webhooks" });
    expect(await rejection(hms.listWebhookDeliveries())).toMatchObject({ status: 429, retriable: true, retryAfterSeconds: 45 });
    expect(standIn.calls.length - before).toBe(1);

    standIn.failNext(2, 503, { path: "/v2/analytics/webhooks/replay" });
    expect((await hms.replayWebhooks({ startTime: new Date(Date.now() - 1000), endTime: new Date() })).status).toBe("started");
    standIn.failNext(3, 503, { path: "/v2/analytics/webhooks/replay" });
    expect(await rejection(hms.replayWebhooks({ startTime: new Date(Date.now() - 1000), endTime: new Date() }))).toMatchObject({ status: 503 });
  });
});
