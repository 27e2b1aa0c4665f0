/**
 * The LISTEN connection is forgotten by the network (the proxy's `blackhole()`: the socket
 * stays open, nothing comes back, no error; PostgreSQL's side is gone). The heartbeat notices
 * within seconds, LISTENs again on a new connection and runs onListen again: notifications sent
 * after that arrive, and the event hub reads what was logged while it was deaf, with its
 * safety poll off, so the heartbeat alone brought it back.
 */
import { sql } from "drizzle-orm";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/client.js";
import { createLogger } from "../../src/kit/logger.js";
import { EventHub } from "../../src/live/event-hub.js";
import { EventLogRepo } from "../../src/live/event-log.repo.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, NEEDS_POSTGRES, serverUrl, type TestDatabase } from "../support/db.js";
import { appendEvents } from "../support/partner-api.js";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.js";

/** A restore takes two to three beats; 20 s leaves room for a loaded machine. */
const RESTORED_MS = 20_000;

let test: TestDatabase;
let proxy: TcpProxy;
let proxied: Database;
let logs: string[];

describe.runIf(Boolean(serverUrl()))(`a LISTEN connection the network forgot${NEEDS_POSTGRES}`, () => {
  beforeEach(async () => {
    test = await createTestDatabase();
    const direct = new URL(test.url!);
    proxy = await startTcpProxy({ host: direct.hostname, port: Number(direct.port || 5432) });
    const url = Object.assign(new URL(test.url!), { port: String(proxy.port) }).toString();
    logs = [];
    const logger = createLogger("warn", { write: (line: string) => void logs.push(line) });
    proxied = await openDatabase({ url, poolMax: 2, queryTimeoutMs: 1_000, listenHeartbeatMs: 500, logger });
  }, 60_000);

  afterEach(async () => {
    await proxied?.close();
    await proxy?.close();
    await test?.close();
  });

  it("is replaced within seconds: notifications sent afterwards arrive, and onListen runs again", async () => {
    const heard: string[] = [];
    let listens = 0;
    await proxied.listen("listen_fault", (payload) => void heard.push(payload), () => void listens++);
    expect(listens).toBe(1);
    proxy.blackhole();

    // Sent directly, not through the proxy; each try a new payload, until one is heard.
    let sent = 0;
    const notify = async () => {
      await test.database.rows(sql`select pg_notify('listen_fault', ${`after-${++sent}`})`);
      return heard.length;
    };
    await expect.poll(notify, { timeout: RESTORED_MS, interval: 250 }).toBeGreaterThan(0);
    expect(listens).toBeGreaterThanOrEqual(2);
    expect(heard.every((payload) => payload.startsWith("after-"))).toBe(true);

    const restored = logs.filter((line) => line.includes("database LISTEN connection re-established"));
    expect(restored.length).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(restored[0]!)).toMatchObject({ level: 40, reason: "heartbeat", channels: 1 });
    for (const line of restored) expect(line).not.toContain(new URL(test.url!).host);
  }, 60_000);

  it("lets the event hub read what was logged while the connection was dead, without its poll", async () => {
    // The hub reads the log directly and LISTENs through the proxy: only the LISTEN connection dies.
    const deafOnly: Database = { ...test.database, listen: (channel, onNotify, onListen) => proxied.listen(channel, onNotify, onListen) };
    const hub = new EventHub(deafOnly, createLogger("silent"), 3_600_000);
    const got: number[] = [];
    try {
      await hub.start();
      hub.subscribe({ all: true }, (events) => void got.push(...events.map((e) => e.id)));
      const team = await createCareTeam(test.database.db);
      await appendEvents(test.database.db, team.consultation.id, 1);
      await expect.poll(() => got.length, { timeout: RESTORED_MS }).toBe(1);

      proxy.blackhole();
      // Logged while the hub is deaf: its NOTIFY reaches no one.
      await appendEvents(test.database.db, team.consultation.id, 2);
      await expect.poll(() => got.length, { timeout: RESTORED_MS, interval: 100 }).toBe(3);
      await appendEvents(test.database.db, team.consultation.id, 1);
      await expect.poll(() => got.length, { timeout: RESTORED_MS }).toBe(4);

      const logged = (await new EventLogRepo(test.database.db).page(team.consultation.id, 0, 100)).map((e) => e.id);
      expect(got).toEqual(logged);
    } finally {
      await hub.stop();
    }
  }, 60_000);
});
