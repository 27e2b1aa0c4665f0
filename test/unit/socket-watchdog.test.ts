/**
 * The pool's socket watchdog (src/db/socket-watchdog.ts) with real sockets on loopback and a
 * hand-set clock: a socket that wrote and has read nothing for longer than `deadAfterMs` is
 * destroyed (with a code every caller reads as an outage); one that got its answer, one with
 * nothing asked, one younger than the bound are kept; nothing is closed while work with no
 * bound runs; TLS URLs get no watchdog.
 * test/faults/dying-connections.test.ts plays it on PostgreSQL behind a proxy.
 */
import net from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SocketWatchdog, usesTls } from "../../src/db/socket-watchdog.js";
import { unboundedScope } from "../../src/db/unbounded-scope.js";

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
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, unboundedRunning: () => false, now: () => clock });
    const [silent, answered, idle, young] = [await connected(watchdog), await connected(watchdog), await connected(watchdog), await connected(watchdog)];
    const destroyed = closedWith(silent!);
    silent!.write("Q");
    answered!.write("Q");
    answer(answered!, "ok");
    await until(() => answered!.bytesRead > 0);
    clock = 1_000;
    young!.write("Q");
    clock = 1_500;
    expect(await watchdog.sweep()).toBe(1);
    expect(await destroyed).toBe("CONNECTION_DESTROYED");
    for (const kept of [answered, idle, young]) expect(kept!.destroyed).toBe(false);
    clock = 2_000;
    expect(await watchdog.sweep()).toBe(1); // the young one, now past the bound
  });

  it("closes nothing while work with no bound runs, and again once it is over", async () => {
    const scope = unboundedScope(); // Database.unbounded's, as client.ts wires it
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, unboundedRunning: scope.running, now: () => clock });
    const socket = await connected(watchdog);
    socket.write("Q");
    clock = 5_000;
    let release!: () => void;
    const migration = scope.run(() => new Promise<void>((resolve) => (release = resolve)));
    expect(await watchdog.sweep()).toBe(0);
    release();
    await migration;
    expect(await watchdog.sweep()).toBe(1);
  });

  it("sets the host and port on the sockets it opens, as postgres.js does (its messages name them)", () => {
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, unboundedRunning: () => false });
    const socket = watchdog.open({ host: ["127.0.0.1"], port: [port] }).on("error", () => undefined);
    expect(socket).toMatchObject({ host: "127.0.0.1", port });
    socket.destroy();
  });

  it("watches plain connections only: a URL asking for TLS gets none", () => {
    expect(usesTls("postgres://u@h/db")).toBe(false);
    expect(usesTls("postgres://u@h/db?sslmode=disable")).toBe(false);
    for (const query of ["sslmode=require", "ssl=true", "sslmode=verify-full", "sslrootcert=system"]) expect(usesTls(`postgres://u@h/db?${query}`)).toBe(true);
  });

  it("connects to the hosts it is given in turn", async () => {
    const watchdog = new SocketWatchdog({ deadAfterMs: 1_000, unboundedRunning: () => false });
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
