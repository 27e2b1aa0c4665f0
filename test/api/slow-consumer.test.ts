/**
 * A subscriber that stops reading (its TCP socket paused, as a frozen tab or a stalled
 * mobile link does) while its events keep flowing: the server cuts it once it holds more
 * than STREAM_MAX_BUFFERED_BYTES unread for it (WebSocket: 4413 on both protocols; SSE: the
 * response destroyed), counts and logs it, and keeps every reading subscriber served.
 */
import { request } from "node:http";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { MyConsultationEventsDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { seedEventLog } from "../support/stream-load.js";
import { subscribe } from "../support/ws.js";

const CAP = 64 * 1024;
/** Well past what loopback's kernel buffers absorb (send up to 4 MiB, receive window) plus the cap. */
const EVENTS = 8000;
/** A large selection: each frame is about 1 KiB, so EVENTS frames are several times the buffers. */
const QUERY = `subscription { myConsultationEvents { id type occurredAt status participant { role fullName state peerId joinedAt leftAt }
  consultation { id status roomId startedAt endedAt durationSeconds
    doctor { id fullName specialty } patient { id fullName }
    participants { role fullName online state peerId joinedAt leftAt userId }
    appointment { id scheduledAt durationMinutes status reason } } } }`;

const QUERY_AFTER = QUERY.replace("subscription {", "subscription($after: ID) {").replace("myConsultationEvents {", "myConsultationEvents(after: $after) {");

let test: TestDatabase;
let api: TestApi;
const logs: string[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { STREAM_MAX_BUFFERED_BYTES: String(CAP), WS_PING_INTERVAL_MS: "0" }, { logs: { write: (line) => void logs.push(line) } });
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

/** A doctor with a consultation, a reading dashboard on it, and a way to make its log grow fast. */
async function flowingDashboard() {
  const team = await createCareTeam(test.database.db);
  const token = await api.tokenFor(team.doctor.user.id);
  const reader = subscribe(api.url, token, MyConsultationEventsDocument, {});
  const flood = async () => {
    await seedEventLog(test.database.db, [team.consultation.id], EVENTS);
    await test.database.db.execute(sql`select pg_notify('consultation_events', ${team.consultation.id})`);
  };
  return { team, token, reader, flood };
}

/** A raw `ws` client on either protocol that counts its frames and can stop reading its socket. */
async function rawSocket(token: string, protocol: "graphql-transport-ws" | "graphql-ws", variables?: { after: string }) {
  const socket = new WebSocket(api.url.replace(/^http/, "ws") + "/graphql", protocol);
  let frames = 0;
  let bytes = 0;
  const acked = new Promise<void>((resolve) =>
    socket.on("message", (raw: Buffer) => {
      const frame = JSON.parse(String(raw)) as { type: string };
      if (frame.type === "connection_ack") resolve();
      if (frame.type === "next" || frame.type === "data") frames++;
      bytes += raw.length;
    }),
  );
  let closedWith: number | null = null;
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => {
      closedWith = code;
      resolve({ code, reason: String(reason) });
    }),
  );
  await new Promise((resolve) => socket.once("open", resolve));
  socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
  await acked;
  socket.send(JSON.stringify({ id: "1", type: protocol === "graphql-ws" ? "start" : "subscribe", payload: { query: variables ? QUERY_AFTER : QUERY, variables } }));
  const tcp = (socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
  return { closed, closedWith: () => closedWith, frames: () => frames, bytes: () => bytes, pause: () => tcp.pause(), resume: () => tcp.resume(), socket };
}

const cuts = async (transport: string) =>
  (await api.api.services.metrics.slowConsumers.get()).values.find((v) => v.labels.transport === transport)?.value ?? 0;

function cutLine(transport: string): { unreadBytes: number; maxBufferedBytes: number } & Record<string, unknown> {
  const line = logs.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.msg === "slow consumer cut off" && l.transport === transport);
  expect(line).toBeDefined();
  return line as never;
}

describe.each([
  ["graphql-ws", "graphql-transport-ws"],
  ["legacy", "graphql-ws"],
] as const)("a %s socket that stops reading", (transport, protocol) => {
  it("is closed with 4413 once it holds more than the cap unread, while the others get every event", async () => {
    const dashboard = await flowingDashboard();
    const slow = await rawSocket(dashboard.token, protocol);
    await new Promise((resolve) => setTimeout(resolve, 300));
    slow.pause();
    await dashboard.flood();
    await expect.poll(() => cuts(transport), { timeout: 30_000, interval: 100 }).toBe(1);
    // What it was cut with: over the cap, by no more than a frame, and nothing about the patient.
    const line = cutLine(transport);
    expect(line.unreadBytes).toBeGreaterThan(CAP);
    expect(line.unreadBytes).toBeLessThan(CAP + 16 * 1024);
    expect(JSON.stringify(line)).not.toContain(dashboard.team.patient.user.id);
    expect(JSON.stringify(line)).not.toContain(dashboard.team.consultation.id);
    slow.resume();
    expect(await slow.closed).toEqual({ code: 4413, reason: "slow consumer: more than STREAM_MAX_BUFFERED_BYTES unread" });
    // It got what the buffers held, far from the whole flood: the rest never piled up for it.
    expect(slow.frames()).toBeGreaterThan(0);
    expect(slow.frames()).toBeLessThan(EVENTS / 2);
    await dashboard.reader.waitFor(EVENTS, 60_000);
    expect(dashboard.reader.errors).toEqual([]);
    await dashboard.reader.dispose();
  }, 90_000);
});

describe("a client that pauses for less than the stall time", () => {
  it.each([
    ["graphql-ws", "graphql-transport-ws"],
    ["legacy", "graphql-ws"],
  ] as const)("gets a replay many times the cap in full over %s: sends wait for it instead of piling up", async (transport, protocol) => {
    const team = await createCareTeam(test.database.db);
    await seedEventLog(test.database.db, [team.consultation.id], EVENTS);
    const before = await cuts(transport);
    const token = await api.tokenFor(team.doctor.user.id);
    const replay = await rawSocket(token, protocol, { after: encodeEventId(0) });
    replay.pause();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    replay.resume();
    await expect.poll(() => replay.frames() === EVENTS || replay.closedWith(), { timeout: 60_000, interval: 200 }).toBe(true);
    expect(replay.frames()).toBe(EVENTS);
    expect(await cuts(transport)).toBe(before);
    replay.socket.close();
  }, 90_000);
});

describe("an SSE stream that stops reading", () => {
  it("is cut (no `complete`) once it holds more than the cap unsent, while the others get every event", async () => {
    const dashboard = await flowingDashboard();
    let text = "";
    const stream = request(`${api.url}/graphql/stream`, {
      method: "POST",
      headers: { accept: "text/event-stream", "content-type": "application/json", authorization: `Bearer ${dashboard.token}` },
    });
    stream.end(JSON.stringify({ query: QUERY }));
    const response = await new Promise<import("node:http").IncomingMessage>((resolve) => stream.on("response", resolve));
    expect(response.statusCode).toBe(200);
    const ended = new Promise<string>((resolve) => {
      response.on("data", (chunk: Buffer) => (text += chunk.toString("utf8")));
      response.on("aborted", () => resolve("aborted"));
      response.on("error", () => resolve("error"));
      response.on("end", () => resolve("end"));
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    response.socket.pause();
    await dashboard.flood();
    await expect.poll(() => cuts("sse"), { timeout: 30_000, interval: 100 }).toBe(1);
    expect(cutLine("sse").unreadBytes).toBeGreaterThan(CAP);
    response.socket.resume();
    expect(await ended).not.toBe("end");
    expect(text).not.toContain("event: complete");
    const received = text.split("event: next").length - 1;
    expect(received).toBeGreaterThan(0);
    expect(received).toBeLessThan(EVENTS / 2);
    await dashboard.reader.waitFor(EVENTS, 60_000);
    expect(dashboard.reader.errors).toEqual([]);
    await dashboard.reader.dispose();
  }, 90_000);
});
