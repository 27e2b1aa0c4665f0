import { createServer, connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WriteBatch } from "../../src/transport/batched-writes.js";
import { slowConsumerCheck } from "../../src/transport/slow-consumer.js";
import { createLogger } from "../../src/kit/logger.js";
import { Metrics } from "../../src/kit/metrics.js";

/** A real loopback TCP connection; counts the system-call-level writes of the server's side. */
async function socketPair() {
  const server = createServer();
  const accepted = new Promise<Socket>((resolve) => server.once("connection", resolve));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const client = connect((server.address() as { port: number }).port, "127.0.0.1");
  const socket = await accepted;
  const writes = { count: 0 };
  const stream = socket as Socket & { _writev: (...args: unknown[]) => void; _write: (...args: unknown[]) => void };
  for (const method of ["_writev", "_write"] as const) {
    const original = stream[method].bind(stream);
    stream[method] = (...args: unknown[]) => {
      writes.count++;
      original(...args);
    };
  }
  return { socket, client, writes, close: () => { client.destroy(); socket.destroy(); server.close(); } };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));
let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe("WriteBatch", () => {
  it("sends the frames written from a chain of promises in one turn as one write", async () => {
    const pair = await socketPair();
    cleanup = pair.close;
    const batch = new WriteBatch(pair.socket, () => pair.socket.writableLength);
    for (let i = 0; i < 200; i++) {
      batch.hold();
      pair.socket.write(`frame ${i}\n`);
      await null; // as a replay sends: one promise per frame
    }
    expect(pair.writes.count).toBe(0);
    await turn();
    expect(pair.writes.count).toBe(1);
    // Without it, each write is its own.
    for (let i = 0; i < 20; i++) {
      pair.socket.write(`frame ${i}\n`);
      await null;
    }
    expect(pair.writes.count).toBe(21);
  });

  it("lets the slow-consumer cap judge only what the client left unread, not what the batch holds", async () => {
    const pair = await socketPair();
    cleanup = pair.close;
    const check = slowConsumerCheck(16 * 1024, new Metrics(), createLogger("silent"));
    const batch = new WriteBatch(pair.socket, () => pair.socket.writableLength);
    batch.hold();
    pair.socket.write(Buffer.alloc(64 * 1024)); // held: the client has not been offered a byte yet
    expect(pair.socket.writableLength).toBeGreaterThan(16 * 1024);
    expect(check("graphql-ws", batch)).toBe(false); // let go to the kernel, which takes it all
    expect(pair.writes.count).toBe(1);
    // A client that stops reading: once the kernel's buffers are full, the rest is unread.
    pair.client.pause();
    let cut = false;
    for (let i = 0; i < 400 && !cut; i++) {
      batch.hold();
      pair.socket.write(Buffer.alloc(64 * 1024));
      cut = check("graphql-ws", batch);
      await turn();
    }
    expect(cut).toBe(true);
  });
});
