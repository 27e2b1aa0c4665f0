/**
 * Sockets and streams dropped at random points (before `connection_init`, right after it,
 * right after the ack, mid-subscribe, mid-replay, mid-answer; an SSE request before its answer,
 * after its headers, after its first event), several at once for one user, cleanly or
 * abruptly: once they are all gone, every per-user slot and every process count is back to
 * zero, and the user connects again on every transport. FC_SEED replays a failing run.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { encodeEventId } from "../../src/consultations/event-cursor.js";
import { CancelConsultationDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { runOver, TRANSPORTS } from "../support/transports.js";

let test: TestDatabase;
let api: TestApi;
let token: string;
let consultationId: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { WS_MAX_SOCKETS_PER_USER: "10", SSE_MAX_STREAMS_PER_USER: "10", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "100000" });
  const team = await createCareTeam(test.database.db);
  consultationId = team.consultation.id;
  token = await api.tokenFor(team.doctor.user.id);
  await api.gql(CancelConsultationDocument, { consultationId, reason: "an event to replay" }, token);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

const SOCKET_POINTS = ["before-init", "after-init-sent", "after-ack", "mid-subscribe", "mid-replay", "mid-answer"] as const;
const STREAM_POINTS = ["before-answer", "after-headers", "after-first-event"] as const;

type Attempt =
  | { kind: "socket"; protocol: "graphql-transport-ws" | "graphql-ws"; at: (typeof SOCKET_POINTS)[number]; abrupt: boolean; delayMs: number }
  | { kind: "stream"; at: (typeof STREAM_POINTS)[number]; delayMs: number };

const attempt: fc.Arbitrary<Attempt> = fc.oneof(
  fc.record({
    kind: fc.constant("socket" as const),
    protocol: fc.constantFrom("graphql-transport-ws" as const, "graphql-ws" as const),
    at: fc.constantFrom(...SOCKET_POINTS),
    abrupt: fc.boolean(),
    delayMs: fc.constantFrom(0, 0, 1, 3),
  }),
  fc.record({ kind: fc.constant("stream" as const), at: fc.constantFrom(...STREAM_POINTS), delayMs: fc.constantFrom(0, 0, 1, 3) }),
);

describe("dropped sockets and streams", () => {
  it("give back every slot, and the user connects again", async () => {
    const seed = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined;
    await fc.assert(
      fc.asyncProperty(fc.array(attempt, { minLength: 1, maxLength: 8 }), async (attempts) => {
        await Promise.all(attempts.map((a) => (a.kind === "socket" ? dropSocket(a) : dropStream(a))));
        await expect.poll(() => held(), { timeout: 10_000 }).toEqual({ sockets: 0, streams: 0, openSockets: 0, openStreams: 0 });
      }),
      { numRuns: 25, seed, verbose: true },
    );
    for (const transport of TRANSPORTS) {
      expect((await runOver(transport, api.url, token, { query: "{ me { id } }" })).codes, transport).toEqual([]);
    }
  }, 120_000);
});

function held() {
  const { pipeline, services } = api.api;
  return { sockets: pipeline.slotsHeld("socket"), streams: pipeline.slotsHeld("stream"), openSockets: api.api.openSockets(), openStreams: services.metrics.openStreams() };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a raw socket, goes as far as `at`, then drops it (close, or a TCP reset when abrupt). */
async function dropSocket(a: Extract<Attempt, { kind: "socket" }>): Promise<void> {
  const legacy = a.protocol === "graphql-ws";
  const socket = new WebSocket(api.url.replace(/^http/, "ws") + "/graphql", a.protocol);
  const messages: Array<{ type: string }> = [];
  const waiters: Array<() => void> = [];
  socket.on("message", (data) => {
    messages.push(JSON.parse(String(data)));
    waiters.splice(0).forEach((w) => w());
  });
  socket.on("error", () => {});
  const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const until = (type: string) =>
    Promise.race([
      closed,
      new Promise<void>((resolve) => {
        const check = () => (messages.some((m) => m.type === type) ? resolve() : waiters.push(check));
        check();
      }),
    ]);
  const send = (message: object) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(message));
  const drop = async () => {
    await pause(a.delayMs);
    if (a.abrupt) socket.terminate();
    else socket.close();
    await closed;
  };
  await Promise.race([closed, new Promise((resolve) => socket.once("open", resolve))]);
  if (a.at === "before-init") return drop();
  send({ type: "connection_init", payload: legacy ? { headers: { Authorization: `Bearer ${token}` } } : { authorization: `Bearer ${token}` } });
  if (a.at === "after-init-sent") return drop();
  await until("connection_ack");
  if (a.at === "after-ack") return drop();
  if (a.at === "mid-answer") {
    send({ id: "q", type: legacy ? "start" : "subscribe", payload: { query: "{ me { id } consultations { edges { node { id } } } }" } });
    return drop();
  }
  const query = "subscription ($id: ID!, $after: ID) { consultationEvents(consultationId: $id, after: $after) { id type } }";
  send({ id: "s", type: legacy ? "start" : "subscribe", payload: { query, variables: { id: consultationId, after: encodeEventId(0) } } });
  if (a.at === "mid-subscribe") return drop();
  await until(legacy ? "data" : "next");
  return drop();
}

/** Asks for a replaying stream and aborts it at `at`. */
async function dropStream(a: Extract<Attempt, { kind: "stream" }>): Promise<void> {
  const controller = new AbortController();
  const query = "subscription ($id: ID!, $after: ID) { consultationEvents(consultationId: $id, after: $after) { id type } }";
  const response = fetch(`${api.url}/graphql/stream`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "text/event-stream", authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables: { id: consultationId, after: encodeEventId(0) } }),
    signal: controller.signal,
  }).catch(() => null);
  if (a.at === "before-answer") {
    await pause(a.delayMs);
    controller.abort();
    await response;
    return;
  }
  const answered = await response;
  if (a.at === "after-first-event" && answered?.body) {
    const reader = answered.body.getReader();
    await reader.read().catch(() => undefined);
  }
  await pause(a.delayMs);
  controller.abort();
}
