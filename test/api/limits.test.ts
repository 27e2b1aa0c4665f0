/**
 * Every query limit holds over HTTP and over both WebSocket protocols alike (graphql-ws does
 * not run Apollo's validation rules by itself), and WebSocket limits hold on both:
 * connection_init timeout, message size, subscriptions per socket, sockets per user (counted
 * across protocols), keep-alive.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { MyConsultationEventsDocument } from "../gql/graphql.js";
import { eq } from "drizzle-orm";
import { videoConsultations } from "../../src/db/schema.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { scriptedCall } from "../support/call-script.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { subscribeLegacy } from "../support/legacy-ws.js";
import { subscribe } from "../support/ws.js";

const PROTOCOLS = ["graphql-transport-ws", "graphql-ws"] as const;
type Protocol = (typeof PROTOCOLS)[number];

let test: TestDatabase;
let dev: TestApi;
let prod: TestApi;
let token: string;
let team: Awaited<ReturnType<typeof createCareTeam>>;

const WS_ENV = {
  WS_CONNECTION_INIT_TIMEOUT_MS: "500",
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: "2",
  WS_MAX_SOCKETS_PER_USER: "2",
  WS_PING_INTERVAL_MS: "200",
};

beforeAll(async () => {
  test = await createTestDatabase();
  dev = await startTestApi(test, WS_ENV);
  prod = await startTestApi(test, { ...WS_ENV, NODE_ENV: "production" });
  team = await createCareTeam(test.database.db);
  token = await dev.tokenFor(team.doctor.user.id);
});

afterAll(async () => {
  await dev?.stop();
  await prod?.stop();
  await test?.close();
});

const deep = (levels: number) => {
  let inner = "id";
  for (let i = 0; i < levels; i++) inner = i % 2 === 0 ? `consultation { ${inner} }` : `appointment { ${inner} }`;
  return inner;
};

const DOCUMENTS = {
  depth: { http: `{ consultations(first: 1) { edges { node { ${deep(14)} } } } }`, ws: `subscription { myConsultationEvents { ${deep(14)} } }` },
  aliases: {
    http: `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: me { id }`).join(" ")} }`,
    ws: `subscription { myConsultationEvents { ${Array.from({ length: 16 }, (_, i) => `a${i}: id`).join(" ")} } }`,
  },
  cost: {
    http: `{ consultations(first: 100) { edges { node { events(first: 100) { edges { node { consultation { participants { userId } prescriptions { id } } } } } } } } }`,
    ws: `subscription { myConsultationEvents { consultation { events(first: 100) { edges { node { consultation { events(first: 100) { edges { node { id } } } } } } } } } }`,
  },
  tokens: { http: `{ me { ${"id ".repeat(2100)} } }`, ws: `subscription { myConsultationEvents { ${"id ".repeat(2100)} } }` },
} as const;

async function overHttp(api: TestApi, query: string) {
  const { status, json } = await api.post({ query }, { authorization: `Bearer ${token}` });
  return { status, error: json.errors?.[0] as { message: string; extensions: { code: string } } };
}

/** The first error a subscription with `query` gets, over graphql-ws or the legacy protocol. */
async function overWs(api: TestApi, query: string, protocol: Protocol = "graphql-transport-ws") {
  const s = subscribe(api.url, token, { kind: "Document", definitions: [] } as never, {} as never);
  await s.dispose();
  const legacy = protocol === "graphql-ws";
  return new Promise<{ message: string; extensions?: { code?: string } }>((resolve, reject) => {
    const socket = new WebSocket(api.url.replace("http", "ws") + "/graphql", protocol);
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    socket.on("message", (data) => {
      const message = JSON.parse(String(data));
      if (message.type === "connection_ack") socket.send(JSON.stringify({ id: "1", type: legacy ? "start" : "subscribe", payload: { query } }));
      const errors = legacy ? message.type === "data" && message.payload.errors : message.type === "error" && message.payload;
      if (errors) {
        socket.close();
        resolve(errors[0]);
      } else if (message.type === "next" || message.type === "data") {
        socket.close();
        reject(new Error("subscription was accepted"));
      }
    });
    socket.on("error", reject);
  });
}

describe.each(Object.entries(DOCUMENTS))("the %s limit", (name, documents) => {
  it("rejects over HTTP with a clear error", async () => {
    const { status, error } = await overHttp(dev, documents.http);
    expect(status).toBe(400);
    expect(["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]).toContain(error.extensions.code);
  });

  it.each(PROTOCOLS)("rejects over WebSocket (%s) with the same rule", async (protocol) => {
    const error = await overWs(dev, documents.ws, protocol);
    expect(["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_PARSE_FAILED"]).toContain(error.extensions?.code);
  });

  // The token limit's message is graphql's own ("Document contains more than N tokens"), the same in every mode.
  it.skipIf(name === "tokens")(`does not reveal the limit in production${name === "tokens" ? " (skipped: graphql's own parser message)" : ""}`, async () => {
    const http = await overHttp(prod, documents.http);
    const ws = await Promise.all(PROTOCOLS.map((protocol) => overWs(prod, documents.ws, protocol)));
    for (const message of [http.error.message, ...ws.map((e) => e.message)]) expect(message).not.toMatch(/\d/);
  });
});

describe("the `first` cap", () => {
  it("holds inside a subscription's selection as it does over HTTP", async () => {
    const roomId = `room-${team.consultation.id}`;
    await test.database.db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, team.consultation.id));
    const http = await overHttp(dev, `{ consultation(id: "${team.consultation.id}") { events(first: 1000) { edges { cursor } } } }`);
    expect(http.error.extensions.code).toBe("BAD_USER_INPUT");
    const errors: unknown[] = [];
    const s = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    s.client.subscribe({ query: "subscription { myConsultationEvents { id consultation { events(first: 1000) { edges { cursor } } } } }" }, {
      next: (value) => value.errors && errors.push(...value.errors),
      error: (e) => errors.push(e),
      complete: () => {},
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const [open, patientJoin] = scriptedCall({ roomId, doctorUserId: team.doctor.user.id, patientUserId: team.patient.user.id }, new Date(Date.now() - 60_000));
    await dev.webhook(open);
    await dev.webhook(patientJoin);
    await expect.poll(() => JSON.stringify(errors)).toContain("BAD_USER_INPUT");
    await s.dispose();
  });
});

describe("field suggestions", () => {
  it("are hidden in production, over HTTP and over WebSocket", async () => {
    const http = await overHttp(prod, "{ consultatons { edges { cursor } } }");
    const ws = await overWs(prod, "subscription { myConsultationEvent { id } }");
    for (const message of [http.error.message, ws.message]) expect(message).not.toContain("Did you mean");
    const devWs = await overWs(dev, "subscription { myConsultationEvent { id } }");
    expect(devWs.message).toContain("Did you mean"); // the control: development still helps
  });
});

describe("HTTP", () => {
  it("refuses batched requests and oversized documents", async () => {
    const batch = await dev.post([{ query: "{ me { id } }" }, { query: "{ me { id } }" }], { authorization: `Bearer ${token}` });
    expect(batch.status).toBe(400);
    const huge = await dev.post({ query: `{ me { id } } # ${"x".repeat(200_000)}` }, { authorization: `Bearer ${token}` });
    expect(huge.status).toBe(413);
  });

  it("accepts an ordinary dashboard query", async () => {
    const { status, error } = await overHttp(dev, `{ consultations(first: 50) { edges { node { id status doctor { fullName } patient { fullName } appointment { scheduledAt } participants { role online } } } } }`);
    expect(error).toBeUndefined();
    expect(status).toBe(200);
  });
});

describe("WebSocket", () => {
  const raw = (protocol: Protocol = "graphql-transport-ws") => new WebSocket(dev.url.replace("http", "ws") + "/graphql", protocol);
  const closeCode = (socket: WebSocket) => new Promise<number>((resolve) => socket.on("close", (code) => resolve(code)));

  it.each(PROTOCOLS)("closes a socket that never sends connection_init (4408, %s)", async (protocol) => {
    expect(await closeCode(raw(protocol))).toBe(4408);
  });

  it.each(PROTOCOLS)("closes a socket whose message is over the size limit (1009, %s)", async (protocol) => {
    const socket = raw(protocol);
    socket.on("open", () => socket.send("x".repeat(70_000)));
    expect(await closeCode(socket)).toBe(1009);
  });

  it("caps subscriptions per socket on the legacy protocol", async () => {
    const s = subscribeLegacy(dev.url, token, MyConsultationEventsDocument, {});
    const extra = [0, 1, 2].map(() => s.start("subscription { myConsultationEvents { id } }"));
    await expect.poll(() => JSON.stringify(s.errors)).toContain("Too many subscriptions");
    extra.forEach((stop) => stop());
    await s.dispose();
  });

  it("counts sockets per user across both protocols (4429)", async () => {
    const first = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    const second = subscribeLegacy(dev.url, token, MyConsultationEventsDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = subscribeLegacy(dev.url, token, MyConsultationEventsDocument, {});
    const fourth = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    expect(await third.closed).toBe(4429);
    expect(await fourth.closed).toBe(4429);
    await first.dispose();
    await second.dispose();
  });

  it("caps subscriptions per socket", async () => {
    const s = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    const extra = [0, 1, 2].map(() => s.client.subscribe({ query: "subscription { myConsultationEvents { id } }" }, { next: () => {}, error: (e) => s.errors.push(e), complete: () => {} }));
    await expect.poll(() => JSON.stringify(s.errors)).toContain("Too many subscriptions");
    extra.forEach((stop) => stop());
    await s.dispose();
  });

  it("frees a subscription's place on the socket once it completes", async () => {
    const s = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    const query = "subscription { myConsultationEvents { id } }";
    const sink = { next: () => {}, error: (e: unknown) => s.errors.push(e), complete: () => {} };
    // The cap is 2: the helper's subscription and this one; completing it makes room again.
    for (let i = 0; i < 3; i++) {
      const stop = s.client.subscribe({ query }, sink);
      await new Promise((resolve) => setTimeout(resolve, 200));
      stop();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(s.errors).toEqual([]);
    const one = s.client.subscribe({ query }, sink);
    const over = s.client.subscribe({ query }, sink);
    await expect.poll(() => JSON.stringify(s.errors)).toContain("Too many subscriptions");
    expect(s.errors).toHaveLength(1);
    one();
    over();
    await s.dispose();
  });

  it("caps sockets per user (4429)", async () => {
    const first = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    const second = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    await new Promise((resolve) => setTimeout(resolve, 300));
    const third = subscribe(dev.url, token, MyConsultationEventsDocument, {});
    expect(await third.closed).toBe(4429);
    await first.dispose();
    await second.dispose();
  });

  it.each(PROTOCOLS)("drops a peer that stops answering pings (%s)", async (protocol) => {
    await expect.poll(() => dev.api.openSockets(), { timeout: 5000 }).toBe(0); // earlier tests' sockets gone
    const socket = raw(protocol);
    const types: string[] = [];
    socket.on("message", (data) => types.push(JSON.parse(String(data)).type));
    await new Promise((resolve) => socket.on("open", resolve));
    socket.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
    await new Promise((resolve) => socket.once("message", resolve)); // connection_ack: past the init timeout's reach
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(dev.api.openSockets()).toBe(1); // an answering peer stays (pings every 200 ms)
    // The legacy protocol's own keep-alive frames, which its clients time out without.
    if (protocol === "graphql-ws") expect(types.filter((t) => t === "ka").length).toBeGreaterThanOrEqual(3);
    (socket as unknown as { _socket: { pause(): void } })._socket.pause(); // a vanished phone
    await expect.poll(() => dev.api.openSockets(), { timeout: 3000 }).toBe(0);
    socket.terminate();
  });
});

describe("CORS", () => {
  it("answers only the configured origins, and keeps CSRF prevention on", async () => {
    const api = await startTestApi(test, { CORS_ORIGINS: "https://app.clinic.example" });
    try {
      const preflight = (origin: string) =>
        fetch(`${api.url}/graphql`, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST" } });
      expect((await preflight("https://app.clinic.example")).headers.get("access-control-allow-origin")).toBe("https://app.clinic.example");
      expect((await preflight("https://evil.example")).headers.get("access-control-allow-origin")).toBeNull();
      const simpleGet = await fetch(`${api.url}/graphql?query=${encodeURIComponent("{ me { id } }")}`);
      expect(simpleGet.status).toBe(400); // a GET without preflight-forcing headers is refused (CSRF)
    } finally {
      await api.stop();
    }
  });
});
