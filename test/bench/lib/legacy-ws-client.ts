/**
 * A minimal client of the legacy Apollo protocol (subscriptions-transport-ws, sub-protocol
 * "graphql-ws": what graphql_flutter and ferry speak by default) on `ws`, with the same
 * surface as GqlWsSocket: connection_init with the token as graphql_flutter apps send it
 * (`headers.Authorization`), one `start`, every `data` handed over with its arrival time.
 */
import WebSocket from "ws";
import type { NextHandler } from "./gqlws-client.js";

export class LegacyWsSocket {
  errors: unknown[] = [];
  completed = false;
  closedWith: number | null = null;
  #onNext: NextHandler | null = null;

  private constructor(private readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const arrivedAt = performance.now();
      const message = JSON.parse(data.toString()) as { type: string; payload?: unknown };
      if (message.type === "data") this.#onNext?.(message.payload as Parameters<NextHandler>[0], arrivedAt);
      else if (message.type === "error") this.errors.push(message.payload);
      else if (message.type === "complete") this.completed = true;
      // "ka": nothing to answer; the server's WebSocket pings are answered by `ws` itself.
    });
    ws.on("close", (code) => {
      this.closedWith = code;
    });
  }

  /** Opens the socket and completes the handshake (connection_init → connection_ack). */
  static open(url: string, token: string, timeoutMs = 30_000): Promise<LegacyWsSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, "graphql-ws", { perMessageDeflate: false });
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
      ws.once("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { headers: { Authorization: `Bearer ${token}` } } })));
      ws.once("message", (data) => {
        const message = JSON.parse(data.toString()) as { type: string };
        if (message.type !== "connection_ack") return fail(new Error(`expected connection_ack, got ${message.type}`));
        clearTimeout(timer);
        ws.removeAllListeners("error");
        ws.removeAllListeners("close");
        ws.on("error", () => {});
        resolve(new LegacyWsSocket(ws));
      });
    });
  }

  subscribe(query: string, variables: Record<string, unknown>, onNext: NextHandler, id = "1"): void {
    this.#onNext = onNext;
    this.ws.send(JSON.stringify({ id, type: "start", payload: { query, variables } }));
  }

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
