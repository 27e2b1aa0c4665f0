import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  HmsApiError,
  HmsClient,
  HmsNotConfiguredError,
  mintAppToken,
  mintManagementToken,
} from "../../src/hms/index.js";
import type { HmsCall, HmsClientOptions } from "../../src/hms/index.js";
import { startHmsStandIn } from "../support/hms-stand-in.js";
import type { HmsStandIn } from "../support/hms-stand-in.js";

const creds = { accessKey: "64ef0ea4ca5848f0e3d4663a", appSecret: `stand-in-secret-${randomUUID()}` };
let standIn: HmsStandIn;

beforeEach(async () => {
  standIn = await startHmsStandIn(creds);
});

afterEach(async () => {
  await standIn.close();
});

function makeClient(overrides: Partial<HmsClientOptions> = {}): HmsClient {
  return new HmsClient({ ...creds, apiBaseUrl: standIn.baseUrl, retryBaseDelayMs: 1, timeoutMs: 2_000, ...overrides });
}

const uniqueName = (): string => `Consult-${randomUUID()}`;
const statuses = (): number[] => standIn.calls.map((call) => call.status);

async function rejection(promise: Promise<unknown>): Promise<HmsApiError> {
  const error: unknown = await promise.then(() => null, (reason: unknown) => reason);
  expect(error).toBeInstanceOf(HmsApiError);
  return error as HmsApiError;
}

async function roomWithPeers(client: HmsClient) {
  const room = await client.createRoom({ name: uniqueName(), size: 2 });
  const doctor = await standIn.joinPeer(room.id, { userId: "doctor-1", role: "doctor", name: "Dr. A" });
  const patient = await standIn.joinPeer(room.id, { userId: "patient-1", role: "patient" });
  return { room, doctor, patient };
}

describe("HmsClient against the 100ms stand-in", () => {
  it("creates a room and upserts it by case-insensitive name", async () => {
    const client = makeClient();
    const name = uniqueName();
    const created = await client.createRoom({ name, size: 2, maxDurationSeconds: 3600 });

    expect(created).toMatchObject({ name, enabled: true, size: 2, maxDurationSeconds: 3600 });
    expect(created.id).toMatch(/^[0-9a-f]{24}$/);
    expect(created.templateId).toMatch(/^[0-9a-f]{24}$/);
    expect(created.createdAt).toBeInstanceOf(Date);

    const again = await client.createRoom({ name: name.toLowerCase() });
    expect(again.id).toBe(created.id);
    expect(standIn.rooms.size).toBe(1);
    expect(standIn.calls[0]?.body).toEqual({ name, size: 2, max_duration_seconds: 3600 });
  });

  it("gets a room, and reports an unknown one as a non-retriable 404 without retrying", async () => {
    const client = makeClient();
    const created = await client.createRoom({ name: uniqueName() });
    expect(await client.getRoom(created.id)).toEqual(created);

    const error = await rejection(client.getRoom("0123456789abcdef01234567"));
    expect(error).toMatchObject({ status: 404, endpoint: "getRoom", retriable: false, code: 404 });
    expect(statuses()).toEqual([200, 200, 404]);
  });

  it("disables and re-enables a room; a disabled room refuses joins", async () => {
    const client = makeClient();
    const room = await client.createRoom({ name: uniqueName(), enabled: false });
    expect(room.enabled).toBe(false);
    await expect(standIn.joinPeer(room.id, { userId: "u1", role: "patient" })).rejects.toThrow(/disabled/);

    expect((await client.setRoomEnabled(room.id, true)).enabled).toBe(true);
    expect(standIn.rooms.get(room.id)?.enabled).toBe(true);
    await expect(standIn.joinPeer(room.id, { userId: "u1", role: "patient" })).resolves.toMatchObject({ userId: "u1" });
  });

  it("ends an active session with lock: room disabled, peers gone", async () => {
    const client = makeClient();
    const { room } = await roomWithPeers(client);

    expect(await client.endActiveRoom(room.id, { reason: "consultation over", lock: true })).toEqual({ ended: true });
    expect(standIn.rooms.get(room.id)).toMatchObject({ enabled: false, session: null });
    expect(await client.listActivePeers(room.id)).toEqual([]);
    expect(standIn.calls.at(-2)?.body).toEqual({ reason: "consultation over", lock: true });
  });

  it("answers { ended: false } when no session is active", async () => {
    const client = makeClient();
    const room = await client.createRoom({ name: uniqueName() });
    expect(await client.endActiveRoom(room.id, { reason: "cleanup", lock: false })).toEqual({ ended: false });
    expect(standIn.rooms.get(room.id)?.enabled).toBe(true);
  });

  it("lists connected peers, optionally by user id", async () => {
    const client = makeClient();
    const { room, doctor, patient } = await roomWithPeers(client);

    const peers = await client.listActivePeers(room.id);
    expect(peers).toHaveLength(2);
    expect(peers).toContainEqual(
      { peerId: doctor.id, userId: "doctor-1", role: "doctor", name: "Dr. A", joinedAt: doctor.joinedAt },
    );
    expect(peers.find((peer) => peer.peerId === patient.id)?.joinedAt).toBeInstanceOf(Date);
    const filtered = await client.listActivePeers(room.id, { userId: "patient-1" });
    expect(filtered.map((peer) => peer.peerId)).toEqual([patient.id]);
  });

  it("removes one peer and leaves the other connected", async () => {
    const client = makeClient();
    const { room, doctor, patient } = await roomWithPeers(client);

    await client.removePeers(room.id, { peerId: patient.id, reason: "stale connection" });
    expect((await client.listActivePeers(room.id)).map((peer) => peer.peerId)).toEqual([doctor.id]);
    expect(standIn.calls.at(-2)?.body).toEqual({ peer_id: patient.id, reason: "stale connection" });
  });

  it("refuses to build without credentials", () => {
    expect(() => new HmsClient({ accessKey: "", appSecret: "x" })).toThrow(HmsNotConfiguredError);
  });
});

describe("stand-in token checks", () => {
  async function getRoomWithToken(token: string): Promise<Response> {
    const url = `${standIn.baseUrl}/rooms/0123456789abcdef01234567`;
    return fetch(url, { headers: { authorization: `Bearer ${token}` } });
  }

  it("rejects a client signing with the wrong secret, after exactly one token refresh", async () => {
    const client = makeClient({ appSecret: "not-the-app-secret" });
    const error = await rejection(client.createRoom({ name: uniqueName() }));

    expect(error).toMatchObject({ status: 401, retriable: false, code: 401 });
    expect(error.message).not.toMatch(/not-the-app-secret|Bearer|eyJ/);
    expect(statuses()).toEqual([401, 401]);
    expect(standIn.rooms.size).toBe(0);
  });

  it("rejects an expired management token and an app token with the documented error body", async () => {
    const expired = await mintManagementToken(creds, { ttlSeconds: 60, now: new Date(Date.now() - 3_600_000) });
    const appToken = await mintAppToken(creds, {
      roomId: "0123456789abcdef01234567", userId: "u1", role: "doctor", expiresAt: new Date(Date.now() + 60_000),
    });

    for (const token of [expired.token, appToken.token]) {
      const response = await getRoomWithToken(token);
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ code: 401, message: expect.any(String), details: expect.any(Array) });
    }
  });
});

describe("HmsClient retries", () => {
  it("recovers from one 401 with exactly one retry", async () => {
    standIn.rejectTokenOnce();
    const room = await makeClient().createRoom({ name: uniqueName() });
    expect(room.enabled).toBe(true);
    expect(statuses()).toEqual([401, 200]);
  });

  it("retries 500s on idempotent calls and reports every attempt", async () => {
    const calls: HmsCall[] = [];
    const client = makeClient({ onCall: (call) => calls.push(call) });
    const room = await client.createRoom({ name: uniqueName() });
    standIn.failNext(2, 500);

    expect(await client.getRoom(room.id)).toEqual(room);
    expect(statuses()).toEqual([200, 500, 500, 200]);
    expect(calls.map((call) => `${call.endpoint} ${call.status}`)).toEqual(
      ["createRoom 200", "getRoom 500", "getRoom 500", "getRoom 200"],
    );
  });

  it("gives up after maxRetries with a retriable HmsApiError", async () => {
    standIn.failNext(10, 503);
    const error = await rejection(makeClient({ maxRetries: 2 }).createRoom({ name: uniqueName() }));
    expect(error).toMatchObject({ status: 503, endpoint: "createRoom", retriable: true });
    expect(standIn.calls).toHaveLength(3);
  });

  it("does not retry removePeers on a 500", async () => {
    const client = makeClient();
    const { room, patient } = await roomWithPeers(client);
    standIn.failNext(1, 500);

    const error = await rejection(client.removePeers(room.id, { peerId: patient.id, reason: "kick" }));
    expect(error).toMatchObject({ status: 500, endpoint: "removePeers" });
    expect(standIn.calls.filter((call) => call.path.endsWith("/remove-peers"))).toHaveLength(1);
    expect(standIn.rooms.get(room.id)?.session?.peers.has(patient.id)).toBe(true);
  });

  it("times out a held response with status null, long before the response would come", async () => {
    const client = makeClient({ timeoutMs: 200, maxRetries: 0 });
    const room = await client.createRoom({ name: uniqueName() });
    standIn.delayNext(1, 10_000);

    const started = Date.now();
    const error = await rejection(client.getRoom(room.id));
    expect(error).toMatchObject({ status: null, endpoint: "getRoom", retriable: true });
    expect(error.message).toMatch(/timed out/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("retries an idempotent call after a timeout", async () => {
    const client = makeClient({ timeoutMs: 200, maxRetries: 1 });
    const room = await client.createRoom({ name: uniqueName() });
    standIn.delayNext(1, 10_000);

    expect(await client.getRoom(room.id)).toEqual(room);
    expect(standIn.calls.filter((call) => call.method === "GET")).toHaveLength(2);
  });
});
