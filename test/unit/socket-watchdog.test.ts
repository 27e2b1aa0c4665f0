/**
 * The pool's socket watchdog (src/db/socket-watchdog.ts) with real sockets on loopback and a
 * hand-set clock: a socket that wrote and has read nothing for longer than `deadAfterMs` is
 * destroyed (with a code every caller reads as an outage); one that got its answer, one with
 * nothing asked, one younger than the bound are kept; nothing is closed while work with no
 * bound runs. test/faults/dying-connections.test.ts plays it on PostgreSQL behind a proxy.
 */
import { readFileSync } from "node:fs";
import net from "node:net";
import tls from "node:tls";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SocketWatchdog } from "../../src/db/socket-watchdog.js";

let server: net.Server;
let port: number;
const accepted: net.Socket[] = [];
let clock = 0;

beforeEach(async () => {
  clock = 0;
  server = net.createServer((socket) => accepted.push(socket.on("error", () => undefined)));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as net.AddressInfo).port;
});

afterEach(async () => {
  for (const socket of accepted.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe("the pool's socket watchdog", () => {
  it("destroys a socket waiting longer than the bound, and keeps the rest", async () => {
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, now: () => clock });
    const [silent, answered, idle, young] = [await connected(watchdog), await connected(watchdog), await connected(watchdog), await connected(watchdog)];
    const destroyed = closedWith(silent!);
    silent!.write("Q");
    answered!.write("Q");
    answer(answered!, "ok");
    await until(() => answered!.bytesRead > 0);
    clock = 1_000;
    young!.write("Q");
    clock = 1_500;
    expect(watchdog.sweep()).toBe(1);
    expect(await destroyed).toBe("CONNECTION_DESTROYED");
    for (const kept of [answered, idle, young]) expect(kept!.destroyed).toBe(false);
    clock = 2_000;
    expect(watchdog.sweep()).toBe(1); // the young one, now past the bound
  });

  it("closes nothing while work with no bound runs, and again once it is over", async () => {
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, now: () => clock });
    const socket = await connected(watchdog);
    socket.write("Q");
    clock = 5_000;
    let release!: () => void;
    const migration = watchdog.unbounded(() => new Promise<void>((resolve) => (release = resolve)));
    expect(watchdog.sweep()).toBe(0);
    release();
    await migration;
    expect(watchdog.sweep()).toBe(1);
  });

  it("connects to the hosts it is given in turn", async () => {
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000 });
    const socket = watchdog.open({ host: ["127.0.0.1"], port: [port] });
    await new Promise((resolve) => socket.once("connect", resolve));
    expect(socket.remotePort).toBe(port);
    socket.destroy();
  });
});

async function connected(watchdog: SocketWatchdog): Promise<net.Socket> {
  const socket = watchdog.track(net.connect(port, "127.0.0.1"));
  socket.on("error", () => undefined);
  await new Promise((resolve) => socket.once("connect", resolve));
  await until(() => accepted.some((s) => s.remotePort === socket.localPort));
  return socket;
}

/** Writes `text` from the server's side of `socket`. */
function answer(socket: net.Socket, text: string): void {
  accepted.find((s) => s.remotePort === socket.localPort)!.write(text);
}

function closedWith(socket: net.Socket): Promise<string | undefined> {
  return new Promise((resolve) => socket.once("error", (error: Error & { code?: string }) => resolve(error.code)));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setImmediate(resolve));
}

describe("the pool's socket watchdog over TLS (the socket wrapped after it was handed over, as postgres.js does)", () => {
  const pair = { key: readFileSync(new URL("../fixtures/tls-test.key", import.meta.url)), cert: readFileSync(new URL("../fixtures/tls-test.crt", import.meta.url)) };
  let tlsServer: tls.Server;
  let tlsPort: number;

  beforeEach(async () => {
    // Answers a request ("Q") on the connection that asks "answer me"; the others stay silent.
    tlsServer = tls.createServer(pair, (socket) => socket.on("error", () => undefined).on("data", (d) => String(d).includes("answer") && socket.write("ok")));
    await new Promise<void>((resolve) => tlsServer.listen(0, "127.0.0.1", resolve));
    tlsPort = (tlsServer.address() as net.AddressInfo).port;
  });

  afterEach(async () => {
    await new Promise<void>((resolve) => tlsServer.close(() => resolve()));
  });

  it("sees a wrapped socket wait from its byte counters, and destroys it past the bound; an answered one is kept", async () => {
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, now: () => clock });
    const open = async () => {
      const raw = watchdog.track(net.connect(tlsPort, "127.0.0.1").on("error", () => undefined));
      const wrapped = tls.connect({ socket: raw, rejectUnauthorized: false }).on("error", () => undefined);
      await new Promise((resolve) => wrapped.once("secureConnect", resolve));
      return { raw, wrapped };
    };
    const silent = await open();
    const answered = await open();
    watchdog.sample(); // the handshakes: written and read, nothing waited for
    const before = silent.raw.bytesWritten;
    silent.wrapped.write("Q");
    answered.wrapped.write("Q answer me");
    await new Promise((resolve) => answered.wrapped.once("data", resolve));
    await until(() => silent.raw.bytesWritten > before);
    clock = 100;
    watchdog.sample();
    clock = 1_200;
    const closed = new Promise((resolve) => silent.wrapped.once("close", resolve));
    expect(watchdog.sweep()).toBe(1);
    await closed;
    expect(answered.raw.destroyed).toBe(false);
    answered.wrapped.destroy();
    watchdog.stop();
  });
});
