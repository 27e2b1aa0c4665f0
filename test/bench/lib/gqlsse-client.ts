/**
 * A minimal graphql-sse client (distinct connections mode) on node:http, with the same shape
 * as GqlWsSocket: one POST /graphql/stream per subscription, `Accept: text/event-stream`, the
 * bearer token in the header, every `next` handed over with its arrival time. One connection
 * per stream (no agent), as a browser behind an HTTP/1 proxy would hold.
 */
import { request, type ClientRequest } from "node:http";
import type { NextHandler } from "./gqlws-client.js";

export class GqlSseStream {
  errors: unknown[] = [];
  completed = false;
  /** Null while open; the HTTP status when refused; 0 once the stream ended. */
  closedWith: number | null = null;
  #onNext: NextHandler | null = null;
  #request: ClientRequest | null = null;

  constructor(
    private readonly url: string,
    private readonly token: string,
  ) {}

  subscribe(query: string, variables: Record<string, unknown>, onNext: NextHandler): void {
    this.#onNext = onNext;
    const body = JSON.stringify({ query, variables });
    const headers = { accept: "text/event-stream", "content-type": "application/json", authorization: `Bearer ${this.token}`, "content-length": String(Buffer.byteLength(body)) };
    this.#request = request(this.url, { method: "POST", agent: false, headers }, (res) => {
      if (res.statusCode !== 200) {
        this.errors.push(`HTTP ${res.statusCode}`);
        this.closedWith = res.statusCode ?? -1;
        res.resume();
        return;
      }
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        const arrivedAt = performance.now();
        buffer += chunk;
        for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
          this.#message(buffer.slice(0, end), arrivedAt);
          buffer = buffer.slice(end + 2);
        }
      });
      res.on("close", () => void (this.closedWith ??= 0));
    });
    this.#request.on("error", (error) => {
      this.errors.push(error.message);
      this.closedWith ??= -1;
    });
    this.#request.end(body);
  }

  #message(message: string, arrivedAt: number): void {
    let event = "";
    let data = "";
    for (const line of message.split("\n")) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("data:")) data += line.slice(5).trim();
    }
    if (event === "next") this.#onNext?.(JSON.parse(data) as Parameters<NextHandler>[0], arrivedAt);
    else if (event === "complete") this.completed = true;
  }

  /** Replaces the handler of the running subscription. */
  onNext(handler: NextHandler | null): void {
    this.#onNext = handler;
  }

  close(): void {
    this.#request?.destroy();
    this.closedWith ??= 0;
  }

  terminate(): void {
    this.close();
  }
}

/** True for an SSE endpoint URL (http…/graphql/stream) rather than a WebSocket one. */
export const isSseUrl = (url: string) => /^https?:\/\/.*\/graphql\/stream$/.test(url);

/** `tokens.length` streams, not yet subscribed (an SSE stream opens with its subscription). */
export function sseMany(url: string, tokens: readonly string[]): { sockets: GqlSseStream[]; failures: string[]; seconds: number } {
  return { sockets: tokens.map((token) => new GqlSseStream(url, token)), failures: [], seconds: 0 };
}
