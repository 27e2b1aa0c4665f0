/**
 * POST /webhooks/100ms at the HTTP boundary: authenticity, size, shape, durability before
 * the 200, duplicates, and 503 (never 200) when the database cannot take the event.
 */
import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmsWebhookEvents } from "../../src/db/schema.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

const envelope = (overrides: Record<string, unknown> = {}) => ({
  version: "2.0",
  id: randomUUID(),
  account_id: "acc",
  app_id: "app",
  timestamp: "2026-11-24T10:00:00Z",
  type: "peer.join.success",
  data: { room_id: "unknown-room", peer_id: randomUUID(), user_id: "u", role: "patient", joined_at: "2026-11-24T10:00:00.123456Z" },
  ...overrides,
});

async function post(body: string | object, headers: Record<string, string> = { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET }) {
  const response = await fetch(`${api.url}/webhooks/100ms`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: await response.text() };
}

const stored = async () => (await test.database.db.select({ n: count() }).from(hmsWebhookEvents))[0]!.n;

describe("POST /webhooks/100ms", () => {
  it("refuses a missing or wrong secret with 401 and stores nothing", async () => {
    const before = await stored();
    expect((await post(envelope(), {})).status).toBe(401);
    expect((await post(envelope(), { [TEST_WEBHOOK_HEADER]: "wrong-secret-wrong-secret" })).status).toBe(401);
    expect((await post(envelope(), { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET.slice(0, -1) })).status).toBe(401);
    expect(await stored()).toBe(before);
  });

  it("refuses a body over 64 KiB with 413, garbage and non-envelopes with 400, storing nothing", async () => {
    const before = await stored();
    expect((await post(envelope({ data: { room_id: "r", filler: "x".repeat(70_000) } }))).status).toBe(413);
    expect((await post("{not json")).status).toBe(400);
    expect((await post({ hello: "world" })).status).toBe(400);
    expect((await post(envelope({ id: "" }))).status).toBe(400);
    expect((await post(envelope({ timestamp: "yesterday" }))).status).toBe(400);
    expect((await post(envelope({ data: "string" }))).status).toBe(400);
    expect((await post([envelope()])).status).toBe(400);
    expect(await stored()).toBe(before);
  });

  it("stores before acknowledging, and acknowledges a duplicate without storing it twice", async () => {
    const event = envelope();
    const first = await post(event);
    expect(first.status).toBe(200);
    // Stored when acknowledged; applied by the queue right after.
    const [row] = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, event.id));
    expect(row).toMatchObject({ type: "peer.join.success", roomId: "unknown-room" });
    expect(row?.payload).toEqual(event);
    await api.settled();
    const [applied] = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, event.id));
    expect(applied).toMatchObject({ outcome: "unknown_room", attempts: 1 });
    expect(applied?.processedAt).toBeInstanceOf(Date);
    const again = await post(event);
    expect(again).toEqual({ status: 200, body: JSON.stringify({ status: "duplicate" }) });
    const rows = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, event.id));
    expect(rows).toHaveLength(1);
  });

  it("stores and acknowledges event types it does not act on", async () => {
    const event = envelope({ type: "recording.success", data: { room_id: "r1", recording_path: "s3://x" } });
    expect((await post(event)).status).toBe(200);
    await api.settled();
    const [row] = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.id, event.id));
    expect(row?.outcome).toBe("ignored");
  });

  it("answers 503, never 200, when the database is unavailable", async () => {
    const broken = await createTestDatabase();
    const brokenApi = await startTestApi(broken);
    try {
      await broken.database.close();
      const response = await fetch(`${brokenApi.url}/webhooks/100ms`, {
        method: "POST",
        headers: { "content-type": "application/json", [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
        body: JSON.stringify(envelope()),
      });
      expect(response.status).toBe(503);
      expect((await fetch(`${brokenApi.url}/readyz`)).status).toBe(503);
    } finally {
      await brokenApi.stop().catch(() => undefined);
      await broken.close().catch(() => undefined);
    }
  });
});
