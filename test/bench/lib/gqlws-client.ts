/**
 * A minimal graphql-ws (graphql-transport-ws) client on `ws`: connection_init with the
 * bearer token, one subscription, every `next` handed over with its arrival time. Cheaper
 * per socket than graphql-ws's own client, so the load generator can hold thousands.
 */
import WebSocket from "ws";
import { LegacyWsSocket } from "./legacy-ws-client.js";

/** graphql-transport-ws (graphql-ws) or the legacy Apollo protocol ("graphql-ws"). */
export type WsProtocol = "graphql-ws" | "legacy";
export type BenchSocket = GqlWsSocket | LegacyWsSocket;

export function openSocket(url: string, token: string, protocol: WsProtocol = "graphql-ws"): Promise<BenchSocket> {
  return protocol === "legacy" ? LegacyWsSocket.open(url, token) : GqlWsSocket.open(url, token);
}

export type NextHandler = (payload: { data?: Record<string, unknown>; errors?: unknown[] }, arrivedAt: number) => void;

export class GqlWsSocket {
  errors: unknown[] = [];
  completed = false;
  closedWith: number | null = null;
  #onNext: NextHandler | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const arrivedAt = performance.now();
      const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
      if (message.type === "next") this.#onNext?.(message.payload as Parameters<NextHandler>[0], arrivedAt);
      else if (message.type === "error") this.errors.push(message.payload);
      else if (message.type === "complete") this.completed = true;
      else if (message.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
    });
    ws.on("close", (code) => {
      this.closedWith = code;
    });
  }

  /** Opens the socket and completes the graphql-ws handshake. */
  static open(url: string, token: string, timeoutMs = 30_000): Promise<GqlWsSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, "graphql-transport-ws", { perMessageDeflate: false });
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error("handshake timed out"));
      }, timeoutMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        reject(error);
      };
      ws.once("error", fail);
      ws.once("close", (code) => fail(new Error(`closed during handshake (${code})`)));
      ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
      ws.once("message", (data) => {
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type !== "connection_ack") return fail(new Error(`expected connection_ack, got ${message.type}`));
        clearTimeout(timer);
        ws.removeAllListeners("error");
        ws.removeAllListeners("close");
        ws.on("error", () => {});
        resolve(new GqlWsSocket(ws));
      });
    });
  }

  subscribe(query: string, variables: Record<string, unknown>, onNext: NextHandler, id = "1"): void {
    this.#onNext = onNext;
    this.ws.send(JSON.stringify({ id, type: "subscribe", payload: { query, variables } }));
  }

  /** Replaces the handler of the running subscription. */
  onNext(handler: NextHandler | null): void {
    this.#onNext = handler;
  }

  close(): void {
    this.ws.close(1000);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** Opens `tokens.length` sockets (of `protocol`), at most `concurrency` handshakes at a time; null where one failed. */
export async function openMany(
  url: string,
  tokens: readonly string[],
  concurrency: number,
  protocol: WsProtocol = "graphql-ws",
): Promise<{ sockets: Array<BenchSocket | null>; failures: string[]; seconds: number }> {
  const sockets: Array<BenchSocket | null> = new Array<BenchSocket | null>(tokens.length).fill(null);
  const failures: string[] = [];
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < tokens.length) {
      const i = next++;
      try {
        sockets[i] = await openSocket(url, tokens[i]!, protocol);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sockets, failures, seconds: (performance.now() - started) / 1000 };
}
