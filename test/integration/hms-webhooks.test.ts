import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingHttpHeaders, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { HmsClient } from "../../src/hms/index.js";
import { startHmsStandIn } from "../support/hms-stand-in.js";
import type { HmsStandIn, StandInPeer } from "../support/hms-stand-in.js";
import { GO_ZERO_TIME, hmsTime } from "../support/hms-webhooks.js";
import type { HmsWebhook, HmsWebhookEnvelope, HmsWebhookType } from "../support/hms-webhooks.js";

/** A tiny webhook receiver: records every request and answers `respond(n)` (n = 1-based request count). */
interface Receiver {
  url: string;
  received: Array<{ body: HmsWebhook; headers: IncomingHttpHeaders; at: number }>;
  respond: (n: number) => number;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Receiver = { url: "", received: [], respond: () => 200, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as HmsWebhook;
    receiver.received.push({ body, headers: req.headers, at: Date.now() });
    res.writeHead(receiver.respond(receiver.received.length)).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/100ms`;
  receiver.close = async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return receiver;
}

const creds = { accessKey: "64ef0ea4ca5848f0e3d4663a", appSecret: `stand-in-secret-${randomUUID()}` };
const HEADERS = { "x-hms-webhook-secret": "s3cret-header-value" };
const T0 = new Date("2026-11-24T09:30:00.123Z");
const after = (ms: number): Date => new Date(T0.getTime() + ms);

let standIn: HmsStandIn;
let receiver: Receiver;

beforeEach(async () => {
  standIn = await startHmsStandIn(creds);
  receiver = await startReceiver();
  standIn.configureWebhooks({ url: receiver.url, headers: HEADERS, retryDelaysMs: [50, 150, 400] });
});

afterEach(async () => {
  await standIn.close();
  await receiver.close();
});

const client = (): HmsClient => new HmsClient({ ...creds, apiBaseUrl: standIn.baseUrl, retryBaseDelayMs: 1 });
const types = (events: HmsWebhook[]): HmsWebhookType[] => events.map((event) => event.type);
const bodies = (): HmsWebhook[] => receiver.received.map((request) => request.body);
const ofType = <T extends HmsWebhookType>(type: T): Array<HmsWebhookEnvelope<T>> =>
  bodies().filter((event): event is HmsWebhookEnvelope<T> & HmsWebhook => event.type === type);

async function roomWithTwoPeers() {
  const room = await client().createRoom({ name: `consult-${randomUUID()}`, size: 2 });
  const doctor = await standIn.joinPeer(room.id, { userId: "doctor-41", role: "doctor", name: "Dr. A" }, { at: T0 });
  const patient = await standIn.joinPeer(room.id, { userId: "patient-8f", role: "patient", userData: '{"seat":2}' },
    { at: after(5_000) });
  return { room, doctor, patient };
}

async function waitFor(condition: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("waitFor: timed out");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX24 = /^[0-9a-f]{24}$/;
const SECOND_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;
const NANO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/;
const PEER_KEYS = ["room_id", "room_name", "session_id", "template_id", "peer_id", "user_id", "user_name", "user_data",
  "role", "joined_at", "session_started_at", "type"];
const SESSION_KEYS = ["room_id", "room_name", "session_id", "template_id", "session_started_at"];
const DATA_KEYS: Record<HmsWebhookType, string[]> = {
  "session.open.success": SESSION_KEYS,
  "session.close.success": [...SESSION_KEYS, "session_duration", "session_stopped_at"],
  "peer.join.success": PEER_KEYS,
  "peer.leave.success": [...PEER_KEYS, "left_at", "duration", "reason", "message"],
  "peer.join.failure": ["room_id", "room_name", "peer_id", "user_id", "template_id", "user_name", "user_data", "role",
    "joined_at", "error_message", "type"],
  "room.end.success": ["room_id", "room_name", "session_id", "peer_id", "user_id", "template_id", "user_name", "role",
    "lock_room", "reason", "source", "session_started_at"],
  "role.change.success": [...PEER_KEYS.filter((key) => key !== "type"), "previous_role", "role_changed_at"],
};

describe("hmsTime", () => {
  it("formats RFC 3339 with nine fractional digits and round-trips through Date", () => {
    expect(hmsTime(T0)).toMatch(/^2026-11-24T09:30:00\.123\d{6}Z$/);
    expect(new Date(hmsTime(T0)).getTime()).toBe(T0.getTime());
    expect(hmsTime(new Date(T0))).toBe(hmsTime(T0));
  });
});

describe("100ms stand-in webhooks", () => {
  it("sends session.open → peer.join ×2 → peer.leave ×2 → session.close with the configured headers", async () => {
    const { room, doctor, patient } = await roomWithTwoPeers();
    await standIn.leavePeer(room.id, patient.id, { at: after(65_700) });
    await standIn.leavePeer(room.id, doctor.id, { at: after(90_000) });
    await standIn.flushWebhooks();

    expect(types(bodies())).toEqual(["session.open.success", "peer.join.success", "peer.join.success",
      "peer.leave.success", "peer.leave.success", "session.close.success"]);
    expect(bodies()).toEqual(standIn.sentWebhooks());
    for (const { headers } of receiver.received) {
      expect(headers["content-type"]).toBe("application/json");
      expect(headers["x-hms-webhook-secret"]).toBe(HEADERS["x-hms-webhook-secret"]);
    }
    const sessionId = ofType("session.open.success")[0]?.data.session_id;
    expect(sessionId).toMatch(HEX24);
    expect(ofType("session.open.success")[0]).toMatchObject({ timestamp: "2026-11-24T09:30:00Z",
      data: { room_id: room.id, room_name: room.name, template_id: room.templateId, session_started_at: hmsTime(T0) } });
    expect(bodies().map((event) => (event.data as { session_id?: string }).session_id)).toEqual(Array(6).fill(sessionId));
    const [doctorJoin, patientJoin] = ofType("peer.join.success");
    expect(doctorJoin?.data).toMatchObject({ peer_id: doctor.id, user_id: "doctor-41", user_name: "Dr. A",
      user_data: "", role: "doctor", type: "regular", joined_at: hmsTime(T0), session_started_at: hmsTime(T0) });
    expect(patientJoin?.data).toMatchObject({ peer_id: patient.id, user_name: "patient-8f", user_data: '{"seat":2}',
      joined_at: hmsTime(after(5_000)) });
    const [patientLeave, doctorLeave] = ofType("peer.leave.success");
    expect(patientLeave).toMatchObject({ timestamp: "2026-11-24T09:31:05Z", data: { peer_id: patient.id,
      left_at: hmsTime(after(65_700)), duration: 60, reason: "client request", message: "" } });
    expect(doctorLeave?.data).toMatchObject({ peer_id: doctor.id, duration: 90, reason: "client request" });
    expect(ofType("session.close.success")[0]?.data).toMatchObject({ session_duration: 90,
      session_started_at: hmsTime(T0), session_stopped_at: hmsTime(after(90_000)) });
    expect(standIn.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual(Array(6).fill([1, 200]));
  });

  it("builds every envelope in the documented shape (§4.3, §4.4)", async () => {
    standIn.setClock(() => after(120_000));
    const { room, doctor, patient } = await roomWithTwoPeers();
    await standIn.changeRole(room.id, patient.id, "observer", { at: after(10_000) });
    await standIn.failJoin(room.id, { userId: "intruder", role: "patient", errorMessage: "role not allowed" });
    await standIn.leavePeer(room.id, doctor.id);
    await client().endActiveRoom(room.id, { reason: "done", lock: false });
    await standIn.flushWebhooks();

    expect(new Set(types(bodies()))).toEqual(new Set(Object.keys(DATA_KEYS)));
    for (const event of bodies()) {
      expect(Object.keys(event).sort()).toEqual(["account_id", "app_id", "data", "id", "timestamp", "type", "version"]);
      expect(event).toMatchObject({ version: "2.0", id: expect.stringMatching(UUID),
        app_id: expect.stringMatching(HEX24), account_id: expect.stringMatching(HEX24),
        timestamp: expect.stringMatching(SECOND_TIME) });
      expect(Object.keys(event.data).sort()).toEqual([...DATA_KEYS[event.type]].sort());
      for (const [key, value] of Object.entries(event.data)) {
        if (key.endsWith("_at") && value !== GO_ZERO_TIME) expect(value, key).toMatch(NANO_TIME);
        if (["duration", "session_duration"].includes(key)) expect(Number.isInteger(value)).toBe(true);
        if (key === "lock_room") expect(typeof value).toBe("boolean");
        if (!["duration", "session_duration", "lock_room"].includes(key)) expect(typeof value, key).toBe("string");
      }
    }
    expect(new Set(bodies().map((event) => event.id)).size).toBe(bodies().length);
    expect(ofType("peer.join.failure")[0]?.data).toMatchObject({ joined_at: GO_ZERO_TIME,
      error_message: "role not allowed", type: "regular" });
    expect(ofType("role.change.success")[0]?.data).toMatchObject({ previous_role: "patient", role: "observer",
      role_changed_at: hmsTime(after(10_000)) });
  });

  it("retries a non-200 answer at the configured delays after each attempt", async () => {
    receiver.respond = (n) => (n <= 2 ? 500 : 200);
    const room = await client().createRoom({ name: `consult-${randomUUID()}` });
    await standIn.failJoin(room.id, { userId: "u", role: "patient", errorMessage: "role not allowed" });
    await standIn.flushWebhooks();

    const event = standIn.sentWebhooks()[0]!;
    expect(standIn.webhookDeliveries).toEqual([1, 2, 3].map((attempt) => ({ id: event.id, type: event.type, attempt,
      status: attempt < 3 ? 500 : 200, at: expect.any(Number) })));
    expect(receiver.received.map((request) => request.body.id)).toEqual([event.id, event.id, event.id]);
    const [first, second, third] = receiver.received.map((request) => request.at);
    expect(second! - first!).toBeGreaterThanOrEqual(48);
    expect(second! - first!).toBeLessThan(500); // the configured delays, not the 1 s / 3 s defaults
    expect(third! - second!).toBeGreaterThanOrEqual(148);
    expect(third! - second!).toBeLessThan(900);
  });

  it("gives up after three retries and records network errors as status null", async () => {
    receiver.respond = () => 204; // only 200 counts as delivered
    standIn.configureWebhooks({ url: receiver.url, retryDelaysMs: [5, 5, 5] });
    const room = await client().createRoom({ name: `consult-${randomUUID()}` });
    await standIn.failJoin(room.id, { userId: "u", role: "patient", errorMessage: "x" });
    await standIn.flushWebhooks();
    expect(standIn.webhookDeliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 204], [2, 204], [3, 204], [4, 204]]);

    await receiver.close();
    await standIn.failJoin(room.id, { userId: "u", role: "patient", errorMessage: "x" });
    await standIn.flushWebhooks();
    expect(standIn.webhookDeliveries.slice(4).map((d) => d.status)).toEqual([null, null, null, null]);
  });

  it("killPeer keeps the peer listed until leaveAfterMs, then leaves with reason 'websocket closed'", async () => {
    const { room, patient } = await roomWithTwoPeers();
    // 100ms's own wait (60 s): the test steps past it instead of waiting on a clock.
    await standIn.killPeer(room.id, patient.id);
    await standIn.flushWebhooks();

    expect(ofType("peer.leave.success")).toEqual([]);
    expect((await client().listActivePeers(room.id)).map((peer) => peer.peerId)).toContain(patient.id);
    standIn.expireKills();
    await standIn.flushWebhooks();
    await waitFor(() => ofType("peer.leave.success").length === 1);
    const leave = ofType("peer.leave.success")[0]!;
    expect(leave.data).toMatchObject({ peer_id: patient.id, reason: "websocket closed", message: "" });
    expect((await client().listActivePeers(room.id)).map((peer) => peer.peerId)).not.toContain(patient.id);
  });

  it("end-room through HmsClient emits room.end.success, a leave per peer, then session.close", async () => {
    const { room, doctor, patient } = await roomWithTwoPeers();
    expect(await client().endActiveRoom(room.id, { reason: "x", lock: true })).toEqual({ ended: true });
    await standIn.flushWebhooks();

    expect(types(bodies())).toEqual(["session.open.success", "peer.join.success", "peer.join.success",
      "room.end.success", "peer.leave.success", "peer.leave.success", "session.close.success"]);
    expect(ofType("room.end.success")[0]?.data).toMatchObject({ room_id: room.id, lock_room: true, reason: "x",
      source: "api", peer_id: "", user_id: "", session_started_at: hmsTime(T0) });
    expect(ofType("peer.leave.success").map((event) => event.data)).toEqual([
      expect.objectContaining({ peer_id: doctor.id, reason: "peer kicked", message: "x" }),
      expect.objectContaining({ peer_id: patient.id, reason: "peer kicked", message: "x" }),
    ]);
    expect(standIn.rooms.get(room.id)).toMatchObject({ enabled: false, session: null });
  });

  it("remove-peers reports 'peer kicked' with the given reason as message", async () => {
    const { room, patient } = await roomWithTwoPeers();
    await client().removePeers(room.id, { peerId: patient.id, reason: "please rejoin" });
    await standIn.flushWebhooks();
    expect(ofType("peer.leave.success").map((event) => event.data)).toEqual([
      expect.objectContaining({ peer_id: patient.id, reason: "peer kicked", message: "please rejoin" }),
    ]);
    expect(ofType("session.close.success")).toEqual([]);
  });

  it("holdWebhooks/releaseWebhooks delivers every held event reversed, then the same sequence again", async () => {
    standIn.holdWebhooks();
    const { room, doctor, patient } = await roomWithTwoPeers();
    await standIn.leavePeer(room.id, patient.id);
    await standIn.leavePeer(room.id, doctor.id);
    await standIn.flushWebhooks();
    expect(receiver.received).toEqual([]);

    standIn.releaseWebhooks({ order: "reverse", duplicates: true });
    await standIn.flushWebhooks();
    const reversed = standIn.sentWebhooks().reverse();
    expect(reversed).toHaveLength(6);
    expect(bodies()).toEqual([...reversed, ...reversed]);
  });

  it("dropNextWebhooks loses exactly those events while active-peers still reports the truth", async () => {
    const room = await client().createRoom({ name: `consult-${randomUUID()}` });
    const doctor = await standIn.joinPeer(room.id, { userId: "doctor-41", role: "doctor" });
    standIn.dropNextWebhooks(1);
    const patient = await standIn.joinPeer(room.id, { userId: "patient-8f", role: "patient" });
    await standIn.leavePeer(room.id, doctor.id);
    await standIn.flushWebhooks();

    const [open, doctorJoin, patientJoin, doctorLeave] = standIn.sentWebhooks();
    expect(bodies()).toEqual([open, doctorJoin, doctorLeave]);
    expect(standIn.webhookDeliveries.map((d) => d.id)).not.toContain(patientJoin!.id);
    const peers = await client().listActivePeers(room.id);
    expect(peers.map((peer) => [peer.peerId, peer.userId])).toEqual([[patient.id, "patient-8f"]]);
  });

  it("chaos is reproducible: same seed, same duplicates and shuffled order", async () => {
    const runOnce = async (target: HmsStandIn, sink: Receiver): Promise<string[]> => {
      target.configureWebhooks({ url: sink.url, retryDelaysMs: [5, 5, 5] });
      target.webhookOptions({ duplicate: 0.5, shuffleWindow: 4, seed: 42 });
      const room = await new HmsClient({ ...creds, apiBaseUrl: target.baseUrl }).createRoom({ name: "chaos" });
      const peers: StandInPeer[] = [];
      for (const userId of ["a", "b", "c"]) peers.push(await target.joinPeer(room.id, { userId, role: "patient" }));
      for (const peer of peers) await target.leavePeer(room.id, peer.id);
      await target.flushWebhooks();
      const ids = target.sentWebhooks().map((event) => event.id);
      expect(new Set(sink.received.map((request) => request.body.id))).toEqual(new Set(ids));
      expect(sink.received.length).toBeGreaterThan(ids.length);
      return sink.received.map((request) => `${ids.indexOf(request.body.id)}:${request.body.type}`);
    };
    const other = await startHmsStandIn(creds);
    const otherReceiver = await startReceiver();
    try {
      expect(await runOnce(standIn, receiver)).toEqual(await runOnce(other, otherReceiver));
    } finally {
      await other.close();
      await otherReceiver.close();
    }
  });

  it("sends nothing until configured", async () => {
    const quiet = await startHmsStandIn(creds);
    try {
      const room = await new HmsClient({ ...creds, apiBaseUrl: quiet.baseUrl }).createRoom({ name: "quiet" });
      const peer = await quiet.joinPeer(room.id, { userId: "u", role: "patient" });
      await quiet.leavePeer(room.id, peer.id);
      await quiet.flushWebhooks();
      expect(quiet.sentWebhooks()).toEqual([]);
      expect(quiet.webhookDeliveries).toEqual([]);
    } finally {
      await quiet.close();
    }
  });
});
