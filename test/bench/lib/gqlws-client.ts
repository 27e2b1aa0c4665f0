/**
 * A minimal GraphQL-over-WebSocket client on `ws`, for either protocol the API serves:
 * graphql-ws (graphql-transport-ws) and the legacy Apollo protocol (sub-protocol "graphql-ws",
 * what graphql_flutter and ferry speak by default, with the token as those apps send it in
 * `headers.Authorization`). connection_init with the bearer token, one subscription, every
 * result handed over with its arrival time. Cheaper per socket than the real clients, so the
 * load generator can hold thousands.
 */
import type { Duplex } from "node:stream";
import WebSocket from "ws";

/** graphql-transport-ws (graphql-ws) or the legacy Apollo protocol ("graphql-ws"). */
export type WsProtocol = "graphql-ws" | "legacy";

export type NextHandler = (payload: { data?: Record<string, unknown>; errors?: unknown[] }, arrivedAt: number) => void;

/** What differs between the two protocols, for this client. */
const PROTOCOLS: Record<WsProtocol, { subprotocol: string; init: (token: string) => object; start: string; data: string }> = {
  "graphql-ws": { subprotocol: "graphql-transport-ws", init: (token) => ({ authorization: `Bearer ${token}` }), start: "subscribe", data: "next" },
  legacy: { subprotocol: "graphql-ws", init: (token) => ({ headers: { Authorization: `Bearer ${token}` } }), start: "start", data: "data" },
};

export class GqlWsSocket {
  errors: unknown[] = [];
  completed = false;
  closedWith: number | null = null;
  #onNext: NextHandler | null = null;

  private constructor(
    private readonly ws: WebSocket,
    private readonly protocol: WsProtocol,
    /** The TCP socket under the WebSocket (from the upgrade response), for pause/resume. */
    private readonly raw: Duplex | null,
  ) {
    const { data: dataType } = PROTOCOLS[protocol];
    ws.on("message", (data) => {
      const arrivedAt = performance.now();
      const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
      if (message.type === dataType) this.#onNext?.(message.payload as Parameters<NextHandler>[0], arrivedAt);
      else if (message.type === "error") this.errors.push(message.payload);
      else if (message.type === "complete") this.completed = true;
      // graphql-ws pings in messages; the legacy protocol sends "ka" (nothing to answer) and
      // WebSocket pings, which `ws` answers itself.
      else if (message.type === "ping") ws.send(JSON.stringify({ type: "pong" }));
    });
    ws.on("close", (code) => {
      this.closedWith = code;
    });
  }

  /** Opens the socket and completes the handshake (connection_init → connection_ack). */
  static open(url: string, token: string, protocol: WsProtocol = "graphql-ws", timeoutMs = 30_000): Promise<GqlWsSocket> {
    const { subprotocol, init } = PROTOCOLS[protocol];
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, subprotocol, { perMessageDeflate: false });
      let raw: Duplex | null = null;
      ws.once("upgrade", (response) => {
        raw = response.socket;
      });
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
      ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: init(token) })));
      ws.once("message", (data) => {
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type !== "connection_ack") return fail(new Error(`expected connection_ack, got ${message.type}`));
        clearTimeout(timer);
        ws.removeAllListeners("error");
        ws.removeAllListeners("close");
        ws.on("error", () => {});
        resolve(new GqlWsSocket(ws, protocol, raw));
      });
    });
  }

  subscribe(query: string, variables: Record<string, unknown>, onNext: NextHandler, id = "1"): void {
    this.#onNext = onNext;
    this.ws.send(JSON.stringify({ id, type: PROTOCOLS[this.protocol].start, payload: { query, variables } }));
  }

  /** Replaces the handler of the running subscription. */
  onNext(handler: NextHandler | null): void {
    this.#onNext = handler;
  }

  /**
   * Stops reading from the TCP socket (a client that no longer keeps up): the kernel's
   * buffers fill, then the server's. `resume()` reads again, buffered frames first.
   */
  pause(): void {
    this.raw?.pause();
  }

  resume(): void {
    this.raw?.resume();
  }

  close(): void {
    this.ws.close(1000);
  }

  terminate(): void {
    this.ws.terminate();
  }
}

/** A socket of either protocol (one class serves both). */
export type BenchSocket = GqlWsSocket;

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
        sockets[i] = await GqlWsSocket.open(url, tokens[i]!, protocol);
      } catch (error) {
        failures.push((error as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { sockets, failures, seconds: (performance.now() - started) / 1000 };
}
