/**
 * A partner's webhook receiver on loopback (a real HTTP server), recording every request it
 * gets; what it answers is set per test (`answer`), and it can go down and come back on the
 * same port. `verified` checks every delivery with the `standardwebhooks` package, as a
 * partner would.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** performance.now() when the body had arrived. */
  at: number;
  /** performance.now() when the answer was sent (undefined while it is not). */
  answeredAt?: number;
}

/** What to answer a request: a status, after a delay; or leave it hanging (`hang`). */
export type Answer = { status: number; delayMs?: number; headers?: Record<string, string>; body?: string } | "hang";

export interface Receiver {
  url: string;
  port: number;
  received: Received[];
  answer: (request: Received, index: number) => Answer;
  /** Answers every request left hanging with `status`. */
  release(status: number): void;
  /** Stops listening (connections refused) until `up()`. */
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
  /** Every delivery verified with `secret` (any failing throws), parsed. */
  verified(secret: string): Array<{ id: string; payload: PartnerBody }>;
}

export interface PartnerBody {
  type: string;
  timestamp: string;
  data: { eventId: string; consultationId: string; status: string; occurredAt: string; changed: Record<string, string | null> };
}

export async function startReceiver(answer: Receiver["answer"] = () => ({ status: 204 })): Promise<Receiver> {
  const hanging = new Map<ServerResponse, Received>();
  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const received: Received = { headers: request.headers as Record<string, string>, body: Buffer.concat(chunks).toString("utf8"), at: performance.now() };
      receiver.received.push(received);
      const reply = receiver.answer(received, receiver.received.length - 1);
      if (reply === "hang") return void hanging.set(response, received);
      setTimeout(() => {
        received.answeredAt = performance.now();
        response.writeHead(reply.status, reply.headers);
        response.end(reply.body ?? "");
      }, reply.delayMs ?? 0);
    });
  };
  let server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const stopListening = async () => {
    for (const response of hanging.keys()) response.destroy();
    hanging.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    received: [],
    answer,
    release: (status) => {
      for (const [response, received] of hanging) {
        received.answeredAt = performance.now();
        response.writeHead(status).end();
      }
      hanging.clear();
    },
    down: stopListening,
    up: async () => {
      server = createServer(handle);
      await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    },
    close: () => (server.listening ? stopListening() : Promise.resolve()),
    verified: (secret) => {
      const webhook = new Webhook(secret);
      return receiver.received.map((r) => ({ id: r.headers["webhook-id"]!, payload: webhook.verify(r.body, r.headers) as PartnerBody }));
    },
  };
  return receiver;
}
