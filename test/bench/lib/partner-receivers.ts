/**
 * Scenario 12's partners: HTTP receivers on loopback in the harness process (one clock for the
 * webhooks' acknowledgements and the receipts), each recording what it got and when; and the
 * floor: the same payloads signed with the `standardwebhooks` package and POSTed to them, at most
 * `concurrency` in flight per receiver, as a bare sender would.
 */
import { createServer, Agent, request, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Receipt {
  at: number;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

export interface BenchReceiver {
  url: string;
  receipts: Receipt[];
  close(): Promise<void>;
}

export async function startBenchReceiver(): Promise<BenchReceiver> {
  const receipts: Receipt[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const h = req.headers as Record<string, string>;
      receipts.push({ at: performance.now(), id: h["webhook-id"]!, timestamp: h["webhook-timestamp"]!, signature: h["webhook-signature"]!, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(204).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    receipts,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Receipts that do not verify with `secret` (standardwebhooks), out of all. */
export function unverified(receipts: readonly Receipt[], secret: string): number {
  const webhook = new Webhook(secret);
  let bad = 0;
  for (const r of receipts) {
    try {
      webhook.verify(r.body, { "webhook-id": r.id, "webhook-timestamp": r.timestamp, "webhook-signature": r.signature });
    } catch {
      bad++;
    }
  }
  return bad;
}

/** One receiver's bare sender: sign and POST, at most `concurrency` in flight, over keep-alive connections. */
export class BareSender {
  readonly #agent: Agent;
  readonly #webhook: Webhook;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(
    private readonly url: string,
    secret: string,
    private readonly concurrency: number,
  ) {
    this.#agent = new Agent({ keepAlive: true, maxSockets: concurrency });
    this.#webhook = new Webhook(secret);
  }

  /** Resolves once the receiver answered; `started` is when signing began. */
  async send(id: string, body: string): Promise<void> {
    if (this.#inFlight >= this.concurrency) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#inFlight++;
    try {
      const now = new Date();
      const headers = { "webhook-id": id, "webhook-timestamp": String(Math.floor(now.getTime() / 1000)), "webhook-signature": this.#webhook.sign(id, now, body) };
      await post(this.#agent, this.url, body, headers);
    } finally {
      this.#inFlight--;
      this.#waiting.shift()?.();
    }
  }

  close(): void {
    this.#agent.destroy();
  }
}

function post(agent: Agent, url: string, body: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", agent, headers: { ...headers, "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on("end", () => resolve());
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(body);
  });
}
