/**
 * HIPAA workspaces: with HMS_WEBHOOK_SIGNING_SECRET set, every webhook needs a valid
 * `x-100ms-signature` over its raw body besides the secret header, on the fast path
 * (plain body) and on the Express route (an encoded body) alike; a wrong or missing one is
 * a 401 that stores nothing and counts toward the failure limit. Hashed room and user names
 * change nothing: we key on ids.
 */
import { createHash, createHmac, randomUUID } from "node:crypto";
import { gzipSync } from "node:zlib";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hmsPeerConnections, hmsWebhookEvents } from "../../src/db/schema.js";
import { ConsultationTimelineDocument, StartConsultationDocument } from "../gql/graphql.js";
import { TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createUser } from "../support/builders.js";
import type { TestDatabase } from "../support/db.js";
import { startVideoStack, videoBooking } from "../support/hms-env.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

const SIGNING_SECRET = "hipaa-signing-secret-0123456789";
const FAILURE_LIMIT = 12;

let test: TestDatabase;
let api: TestApi;
let hms: HmsStandIn;
let stop: () => Promise<void>;

beforeAll(async () => {
  ({ test, api, hms, stop } = await startVideoStack({
    HMS_WEBHOOK_SIGNING_SECRET: SIGNING_SECRET,
    RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE: String(FAILURE_LIMIT),
  }));
});

afterAll(async () => {
  await stop?.();
});

const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
const sign = (body: Buffer | string, secret = SIGNING_SECRET) => createHmac("sha256", secret).update(body).digest("hex");

const envelope = () => ({
  version: "2.0",
  id: randomUUID(),
  account_id: "acc",
  timestamp: "2026-11-24T10:00:00Z",
  type: "peer.join.success",
  data: { room_id: `room-${randomUUID()}`, room_name: sha256("consultation-x"), peer_id: randomUUID(), user_id: "u",
    user_name: sha256("Patient Name"), role: "patient", joined_at: "2026-11-24T10:00:00.123456Z" },
});

type Path = "fast" | "express";

/** The fast path takes plain bodies; an encoded body goes through the Express route. */
async function post(body: object, path: Path, signature: (raw: string) => string | null) {
  const raw = JSON.stringify(body);
  const sig = signature(raw);
  const response = await fetch(`${api.url}/webhooks/100ms`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET,
      ...(sig === null ? {} : { "x-100ms-signature": sig }),
      ...(path === "express" ? { "content-encoding": "gzip" } : {}),
    },
    body: path === "express" ? gzipSync(raw) : raw,
  });
  await response.arrayBuffer();
  return response.status;
}

const storedIds = async (ids: string[]) =>
  (await test.database.db.select({ id: hmsWebhookEvents.id }).from(hmsWebhookEvents)).filter((r) => ids.includes(r.id)).length;

describe("signed webhooks (HMS_WEBHOOK_SIGNING_SECRET)", () => {
  it.each<Path>(["fast", "express"])("a valid signature passes on the %s path", async (path) => {
    const event = envelope();
    expect(await post(event, path, (raw) => sign(raw))).toBe(200);
    expect(await storedIds([event.id])).toBe(1);
  });

  it.each<Path>(["fast", "express"])("a wrong or missing signature is 401 and stores nothing on the %s path", async (path) => {
    const events = [envelope(), envelope(), envelope(), envelope()];
    expect(await post(events[0]!, path, () => null)).toBe(401);
    expect(await post(events[1]!, path, (raw) => sign(raw, "another-secret-entirely"))).toBe(401);
    expect(await post(events[2]!, path, (raw) => sign(raw + " "))).toBe(401);
    expect(await post(events[3]!, path, () => "not-hex")).toBe(401);
    expect(await storedIds(events.map((e) => e.id))).toBe(0);
  });

  it("a signature does not replace the secret header", async () => {
    const event = envelope();
    const raw = JSON.stringify(event);
    const response = await fetch(`${api.url}/webhooks/100ms`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-100ms-signature": sign(raw) },
      body: raw,
    });
    expect(response.status).toBe(401);
    expect(await storedIds([event.id])).toBe(0);
  });

  it("a whole call from the signing stand-in, with hashed names, sets presence by ids", async () => {
    hms.configureWebhooks({
      url: `${api.url}/webhooks/100ms`,
      headers: { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
      signingSecret: SIGNING_SECRET,
      hashNames: true,
      retryDelaysMs: [50, 100, 200],
    });
    const t = await videoBooking(test, api);
    const { data } = await api.gql(StartConsultationDocument, { appointmentId: t.appointment.id }, t.doctorToken);
    const { id, roomId } = data!.startConsultation;
    await hms.joinPeer(roomId!, { userId: t.patient.user.id, role: "patient", name: "Patient Name" });
    await hms.joinPeer(roomId!, { userId: t.doctor.user.id, role: "doctor", name: "Dr. Who" });
    await hms.flushWebhooks();
    await api.settled();

    expect(hms.webhookDeliveries.every((d) => d.status === 200)).toBe(true);
    expect(hms.sentWebhooks().every((e) => /^[0-9a-f]{64}$/.test(String((e.data as { room_name?: string }).room_name)))).toBe(true);
    const admin = await api.tokenFor((await createUser(test.database.db, "admin")).id);
    const consultation = (await api.gql(ConsultationTimelineDocument, { id, first: 10 }, admin)).data!.consultation!;
    expect(consultation.status).toBe("ACTIVE");
    expect(consultation.participants.map((p) => `${p.role}:${p.online}`)).toEqual(["DOCTOR:true", "PATIENT:true"]);
    const peers = await test.database.db.select({ n: count() }).from(hmsPeerConnections).where(eq(hmsPeerConnections.consultationId, id));
    expect(peers[0]!.n).toBe(2);
  });

  it("bad signatures count toward the webhook failure limit (429)", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < FAILURE_LIMIT + 2; i++) statuses.push(await post(envelope(), i % 2 ? "fast" : "express", () => "0".repeat(64)));
    expect(statuses).toContain(429);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });
});
