/**
 * A TCP proxy on loopback between the API and PostgreSQL, to play the network's faults:
 * `partition()` stops forwarding in both directions while every socket stays open (what a
 * dropped route or a dead middlebox looks like: no error, no answer), `heal()` forwards what
 * waited; `reset()` destroys every connection at once; `blackhole()` makes the connections
 * open now silent for good (a NAT or firewall that forgot them) while new ones work;
 * `latency(ms)` delays every chunk by ms/2 each way (a round trip costs ~ms), in order;
 * `refuse()` stops listening, so new connections are refused while open ones go on.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  partition(): void;
  heal(): void;
  reset(): void;
  /** The connections open now forward nothing more, ever, and are never closed by the proxy; new ones work. */
  blackhole(): void;
  /** Added to every round trip from now on (ms/2 each way), on open connections too; 0: none. */
  latency(ms: number): void;
  /** Nothing listens on the port any more (for good): new connections are refused; open ones go on. */
  refuse(): void;
  /** Connections open now. */
  readonly connections: number;
  close(): Promise<void>;
}

/** One direction of one connection: chunks forwarded after the delay, in the order received. */
class Lane {
  readonly #queue: Array<{ chunk: Buffer; due: number }> = [];
  #timer: NodeJS.Timeout | null = null;
  #ended = false;
  dead = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly delayMs: () => number,
    /** True while partitioned: backpressure never resumes a held socket. */
    private readonly held: () => boolean,
  ) {
    from.on("data", (chunk: Buffer) => this.#receive(chunk));
    from.on("end", () => {
      this.#ended = true;
      this.#flush();
    });
  }

  #receive(chunk: Buffer): void {
    if (this.dead) return;
    const last = this.#queue.at(-1)?.due ?? 0;
    // Never before the chunk ahead of it, whatever the delay became meanwhile.
    this.#queue.push({ chunk, due: Math.max(last, performance.now() + this.delayMs()) });
    this.#flush();
  }

  #flush(): void {
    if (this.#timer) return;
    while (this.#queue.length > 0 && !this.dead) {
      const wait = this.#queue[0]!.due - performance.now();
      if (wait > 0.5) {
        this.#timer = setTimeout(() => {
          this.#timer = null;
          this.#flush();
        }, wait);
        return;
      }
      const { chunk } = this.#queue.shift()!;
      if (!this.to.write(chunk) && !this.from.isPaused()) {
        this.from.pause();
        this.to.once("drain", () => this.held() || this.from.resume());
      }
    }
    if (this.#ended && this.#queue.length === 0 && !this.dead) this.to.end();
  }

  drop(): void {
    this.dead = true;
    this.#queue.length = 0;
    if (this.#timer) clearTimeout(this.#timer);
  }
}

interface Pair {
  client: Socket;
  upstream: Socket;
  lanes: [Lane, Lane];
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let partitioned = false;
  let delayMs = 0;
  const oneWay = () => delayMs / 2;
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const held = () => partitioned;
    const pair: Pair = { client, upstream, lanes: [new Lane(client, upstream, oneWay, held), new Lane(upstream, client, oneWay, held)] };
    pairs.add(pair);
    if (partitioned) hold(pair);
    const end = () => {
      pairs.delete(pair);
      for (const lane of pair.lanes) lane.drop();
      client.destroy();
      upstream.destroy();
    };
    client.on("error", end).on("close", end);
    upstream.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    partition: () => {
      partitioned = true;
      for (const pair of pairs) hold(pair);
    },
    heal: () => {
      partitioned = false;
      for (const { client, upstream } of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    reset: () => {
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    blackhole: () => {
      for (const pair of [...pairs]) {
        // Forgotten by the proxy: bytes are read and dropped, nothing is closed (the peer never hears).
        pairs.delete(pair);
        for (const lane of pair.lanes) lane.drop();
        for (const socket of [pair.client, pair.upstream]) socket.removeAllListeners("close").removeAllListeners("error").on("error", () => undefined);
        pair.upstream.destroy();
        pair.client.resume();
      }
    },
    latency: (ms) => {
      delayMs = Math.max(0, ms);
    },
    get connections() {
      return pairs.size;
    },
    refuse: () => {
      server.close();
    },
    close: async () => {
      for (const { client, upstream } of pairs) {
        client.destroy();
        upstream.destroy();
      }
      // Called back at once (with an error) when refuse() closed it already.
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Neither side's bytes go anywhere until `heal`: they wait in the kernel's buffers, as on a dead route. */
function hold({ client, upstream }: Pair): void {
  client.pause();
  upstream.pause();
}
