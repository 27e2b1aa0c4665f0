/**
 * The database stops answering without an error (a silent partition: every socket open,
 * nothing forwarded; a TCP proxy in between), with DATABASE_QUERY_TIMEOUT_MS=1000: every
 * request gets an answer instead of hanging — a webhook 503 (nothing acknowledged, so 100ms
 * retries), a GraphQL request and an SSE stream INTERNAL_SERVER_ERROR (503), a WebSocket 4500 —
 * never an authentication verdict; once the network heals, the API answers again without a
 * restart, and the webhooks refused meanwhile, resent, are applied exactly once.
 */
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DatabaseTimeoutError, openDatabase, type Database } from "../../src/db/client.js";
import { consultationEvents, hmsWebhookEvents } from "../../src/db/schema.js";
import { startTestApi, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET, type TestApi } from "../support/api.js";
import { createCareTeamWithRoom } from "../support/builders.js";
import { scriptedCall } from "../support/call-script.js";
import { createTestDatabase, NEEDS_POSTGRES, serverUrl, type TestDatabase } from "../support/db.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";
import { runOver, TRANSPORTS } from "../support/transports.js";

/** Far above the bound (1 s; 2 s for a transaction): an answer later than this is a hang. */
const NO_ANSWER_MS = 15_000;

let test: TestDatabase;
let proxy: TcpProxy;
let proxied: Database;
let api: TestApi;

describe.runIf(Boolean(serverUrl()))(`a silent partition between the API and PostgreSQL${NEEDS_POSTGRES}`, () => {
  beforeAll(async () => {
    test = await createTestDatabase();
    const direct = new URL(test.url!);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const url = Object.assign(new URL(test.url!), { port: String(proxy.port) }).toString();
    proxied = await openDatabase({ url, poolMax: 5, queryTimeoutMs: 1_000 });
    api = await startTestApi({ ...test, url, database: proxied }, { DATABASE_QUERY_TIMEOUT_MS: "1000" });
  }, 60_000);

  afterAll(async () => {
    proxy?.heal();
    await api?.stop();
    await proxied?.close();
    await proxy?.close();
    await test?.close();
  });

  it("answers every request within the bound while it lasts, and recovers without a restart when it heals", async () => {
    const team = await createCareTeamWithRoom(test.database.db);
    const token = await api.tokenFor(team.doctor.user.id);
    const [open, patientJoin, doctorJoin] = scriptedCall(team.parties, new Date(Date.now() - 60_000));
    expect(await api.webhook(open)).toBe(200);

    proxy.partition();
    const during = await Promise.all([
      answered(postWebhook(patientJoin)),
      ...TRANSPORTS.map((transport) => answered(runOver(transport, api.url, token, { query: "{ me { id } }" }).then((o) => o.codes))),
    ]);
    expect(during[0]).toBe(503);
    // Every transport: our fault, never UNAUTHENTICATED (a 4403 would send the app for a new token).
    for (const codes of during.slice(1)) expect(codes).toEqual(["INTERNAL_SERVER_ERROR"]);

    proxy.heal();
    await expect.poll(() => postWebhook(patientJoin), { timeout: 20_000, interval: 250 }).toBe(200);
    expect(await postWebhook(doctorJoin)).toBe(200);
    await api.settled();
    expect((await runOver("http", api.url, token, { query: "{ me { id } }" })).codes).toEqual([]);

    // The refused delivery, resent, is stored and applied once; nothing acknowledged was lost.
    const stored = await test.database.db.select().from(hmsWebhookEvents).where(eq(hmsWebhookEvents.roomId, team.roomId));
    expect(stored.map((row) => row.outcome).sort()).toEqual(["applied", "applied", "applied"]);
    const joins = await test.database.db.select().from(consultationEvents).where(eq(consultationEvents.consultationId, team.consultation.id));
    expect(joins.filter((e) => e.type === "PARTICIPANT_JOINED")).toHaveLength(2);
  }, 90_000);

  it("bounds a transaction too: it fails with the database's timeout, then works once the network heals", async () => {
    await proxied.db.transaction((tx) => tx.execute(sql`select 1`)); // a pooled connection, open through the proxy
    proxy.partition();
    try {
      const during = proxied.db.transaction((tx) => tx.execute(sql`select 1`));
      await expect(answered(during)).rejects.toBeInstanceOf(DatabaseTimeoutError);
    } finally {
      proxy.heal();
    }
    await expect.poll(() => proxied.db.transaction((tx) => tx.execute(sql`select 1`)).then(() => "ok", (e: Error) => e.name), { timeout: 20_000, interval: 250 }).toBe("ok");
  }, 60_000);
});

function postWebhook(body: unknown): Promise<number> {
  return fetch(`${api.url}/webhooks/100ms`, {
    method: "POST",
    headers: { "content-type": "application/json", [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
    body: JSON.stringify(body),
  }).then(async (response) => (await response.arrayBuffer(), response.status));
}

/** The answer, or a failure naming the hang. */
function answered<T>(request: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${NO_ANSWER_MS} ms`)), NO_ANSWER_MS)));
  return Promise.race([request, hang]).finally(() => clearTimeout(timer));
}
