/**
 * The LISTEN heartbeat (src/db/listener.ts) against a stand-in server: a connection whose own
 * notifications stop coming back is replaced, LISTENs again on every channel and runs every
 * onListen again (the callers catch up from their cursor); a closed one is replaced at once;
 * one that answers is kept. test/faults/listen-reconnect.test.ts plays it on PostgreSQL.
 */
import { describe, expect, it } from "vitest";
import { Listener, type ConnectionEvents, type ListenConnection } from "../../src/db/listener.js";

/** A server of LISTEN/NOTIFY on loopback, whose connections can go silent or be refused. */
class StandIn {
  readonly connections: StandInConnection[] = [];
  refusing = false;

  open = (events: ConnectionEvents): ListenConnection => {
    const connection = new StandInConnection(events, this);
    this.connections.push(connection);
    return connection;
  };

  notify(channel: string, payload: string): void {
    for (const connection of this.connections) connection.hear(channel, payload);
  }

  get live(): StandInConnection[] {
    return this.connections.filter((c) => !c.dropped);
  }
}

class StandInConnection implements ListenConnection {
  readonly channels = new Set<string>();
  beats = 0;
  /** Takes statements and answers nothing, as behind a silent partition. */
  silent = false;
  dropped = false;

  constructor(
    private readonly events: ConnectionEvents,
    private readonly server: StandIn,
  ) {}

  run(text: string, params: string[] = []): Promise<unknown> {
    if (this.server.refusing) return Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }));
    if (this.silent || this.dropped) return new Promise(() => undefined);
    const [verb, quoted] = text.split(" ");
    const channel = quoted?.slice(1, -1) ?? "";
    if (verb === "listen") this.channels.add(channel);
    if (verb === "unlisten") this.channels.delete(channel);
    if (text.startsWith("select pg_notify")) {
      this.beats++;
      setImmediate(() => this.server.notify(params[0]!, params[1]!));
    }
    return Promise.resolve();
  }

  drop(): void {
    this.dropped = true;
  }

  hear(channel: string, payload: string): void {
    if (!this.silent && !this.dropped && this.channels.has(channel)) this.events.onNotify(channel, payload);
  }

  close(): void {
    this.dropped = true;
    this.events.onClose();
  }
}

function subscriber() {
  const heard: string[] = [];
  let listens = 0;
  return { heard, listens: () => listens, onNotify: (p: string) => void heard.push(p), onListen: () => void listens++ };
}

function setUp() {
  const server = new StandIn();
  const warnings: Array<Record<string, unknown>> = [];
  const listener = new Listener({ open: server.open, heartbeatMs: 10, warn: (fields) => void warnings.push(fields) });
  return { server, warnings, listener };
}

describe("the LISTEN heartbeat", () => {
  it("keeps a connection that hears its own heartbeats", async () => {
    const { server, warnings, listener } = setUp();
    const a = subscriber();
    await listener.listen("events", a.onNotify, a.onListen);
    expect(a.listens()).toBe(1);
    await expect.poll(() => server.connections[0]!.beats).toBeGreaterThanOrEqual(10);
    server.notify("events", "grew");
    expect(a.heard).toEqual(["grew"]);
    expect([server.connections.length, a.listens(), warnings.length]).toEqual([1, 1, 0]);
    await listener.close();
    expect(server.live).toHaveLength(0);
  });

  it("replaces a silent connection, LISTENs again on every channel, and runs every onListen again", async () => {
    const { server, warnings, listener } = setUp();
    const [a, b, c] = [subscriber(), subscriber(), subscriber()];
    await listener.listen("events", a.onNotify, a.onListen);
    await listener.listen("events", b.onNotify, b.onListen);
    await listener.listen("endpoints", c.onNotify, c.onListen);
    const first = server.connections[0]!;
    first.silent = true;
    await expect.poll(() => [a, b, c].map((s) => s.listens())).toEqual([2, 2, 2]);
    expect(first.dropped).toBe(true);
    expect(server.live).toHaveLength(1);
    expect([...server.live[0]!.channels].filter((ch) => !ch.startsWith("listen_heartbeat_")).sort()).toEqual(["endpoints", "events"]);
    server.notify("events", "grew");
    expect([a.heard, b.heard, c.heard]).toEqual([["grew"], ["grew"], []]);
    expect(warnings).toEqual([expect.objectContaining({ reason: "heartbeat", channels: 2 })]);
    await listener.close();
  });

  it("replaces a closed connection at once, and retries each beat while the server refuses", async () => {
    const { server, warnings, listener } = setUp();
    const a = subscriber();
    await listener.listen("events", a.onNotify, a.onListen);
    server.refusing = true;
    server.connections[0]!.close();
    await expect.poll(() => server.connections.length).toBeGreaterThanOrEqual(4);
    expect(a.listens()).toBe(1);
    server.refusing = false;
    await expect.poll(() => a.listens()).toBe(2);
    expect(server.live).toHaveLength(1);
    expect(warnings).toEqual([expect.objectContaining({ reason: "closed" })]);
    await listener.close();
  });

  it("fails the first listen when no connection can be made, and stops when the last channel is unlistened", async () => {
    const { server, listener } = setUp();
    server.refusing = true;
    await expect(listener.listen("events", () => undefined, () => undefined)).rejects.toThrow(/ECONNREFUSED/);
    server.refusing = false;
    const a = subscriber();
    const { unlisten } = await listener.listen("events", a.onNotify, a.onListen);
    expect(server.live).toHaveLength(1);
    await unlisten();
    expect(server.live).toHaveLength(0);
    await listener.close();
  });
});
