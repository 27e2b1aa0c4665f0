/**
 * One keep-alive, graphql-ws's own, driven by WS_PING_INTERVAL_MS: at 0 no ping is ever
 * sent (graphql-ws alone would ping every 12 s), at a short interval pings come at that
 * pace and a peer that stops answering them is dropped.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { createPatient } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { rawGraphqlSocket } from "../support/ws.js";

let test: TestDatabase;
let off: TestApi;
let fast: TestApi;
let userId: string;
const INTERVAL_MS = 150;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  test = await createTestDatabase();
  off = await startTestApi(test, { WS_PING_INTERVAL_MS: "0" });
  fast = await startTestApi(test, { WS_PING_INTERVAL_MS: String(INTERVAL_MS) });
  userId = (await createPatient(test.database.db)).user.id;
});

afterAll(async () => {
  await off?.stop();
  await fast?.stop();
  await test?.close();
});

describe("WebSocket keep-alive", () => {
  it("sends no ping at all with WS_PING_INTERVAL_MS=0, past graphql-ws's own 12 s default", async () => {
    const client = rawGraphqlSocket(off.url, { authorization: `Bearer ${await off.tokenFor(userId)}` });
    await client.acknowledged;
    await sleep(13_000);
    expect(client.state).toEqual({ pings: 0, closeCode: null });
    client.socket.close();
  }, 30_000);

  it("pings at the configured interval and keeps a socket that answers", async () => {
    const client = rawGraphqlSocket(fast.url, { authorization: `Bearer ${await fast.tokenFor(userId)}` });
    await client.acknowledged;
    await sleep(INTERVAL_MS * 10);
    // Ten intervals: at least four pings even on a loaded machine, and no second loop doubling them.
    expect(client.state.pings).toBeGreaterThanOrEqual(4);
    expect(client.state.pings).toBeLessThanOrEqual(11);
    expect(client.state.closeCode).toBeNull();
    client.socket.close();
  }, 30_000);

  it("drops a socket that stops answering pings", async () => {
    const client = rawGraphqlSocket(fast.url, { authorization: `Bearer ${await fast.tokenFor(userId)}` }, { autoPong: false });
    await client.acknowledged;
    const started = Date.now();
    expect(await client.closed).toBe(1006);
    expect(client.state.pings).toBeGreaterThanOrEqual(1);
    expect(Date.now() - started).toBeLessThan(INTERVAL_MS * 20);
  }, 30_000);
});
