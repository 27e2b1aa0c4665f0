/**
 * A TCP proxy on loopback between the API and PostgreSQL, to play the network's faults:
 * `partition()` stops forwarding in both directions while every socket stays open (what a
 * dropped route or a dead middlebox looks like: no error, no answer), `heal()` forwards what
 * waited; `reset()` destroys every connection at once; `refuse()` closes new ones at once.
 */
import { createServer, connect, type AddressInfo, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  partition(): void;
  heal(): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let partitioned = false;
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    if (partitioned) hold(pair);
    const end = () => {
      pairs.delete(pair);
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
      for (const [client, upstream] of pairs) {
        client.resume();
        upstream.resume();
      }
    },
    reset: () => {
      for (const [client, upstream] of pairs) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    close: async () => {
      for (const [client, upstream] of pairs) {
        client.destroy();
        upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Neither side's bytes go anywhere until `heal`: they wait in the kernel's buffers, as on a dead route. */
function hold([client, upstream]: [Socket, Socket]): void {
  client.pause();
  upstream.pause();
}
