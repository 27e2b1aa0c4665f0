/**
 * A bounded stream of webhook POSTs at a fixed concurrency over node:http, recording for
 * every request exactly what became of it: a 200 (acknowledged), another status, or a
 * connection error (reset, refused, timeout). Fault tests use it to kill or stop the server
 * mid-stream and then check what the database holds against what was acknowledged.
 */
import http from "node:http";

export type DeliveryOutcome =
  | { id: string; kind: "acknowledged"; status: 200; answer: string }
  | { id: string; kind: "status"; status: number; answer: string }
  | { id: string; kind: "connection-error"; code: string };

export interface WebhookStreamOptions {
  /** Full URL of the webhook endpoint, e.g. http://127.0.0.1:1234/webhooks/100ms. */
  url: string;
  /** Sent on every request (the webhook secret header). */
  headers: Record<string, string>;
  /** Requests in flight at once. */
  concurrency: number;
  /** Per request; past it the request is recorded as a connection error "TIMEOUT". Default 15 s. */
  timeoutMs?: number;
  /**
   * Called synchronously right after the n-th request (1-based) was handed to the socket,
   * with how many are in flight now (this one included). Return "stop" to dispatch no more.
   */
  onDispatched?: (n: number, inFlight: number) => void | "stop";
}

export interface WebhookStreamResult<T> {
  outcomes: DeliveryOutcome[];
  /** Bodies never dispatched because onDispatched returned "stop", in input order. */
  unsent: T[];
}

/** POSTs `bodies` (each with a string `id`), `concurrency` at a time. Never rejects. */
export async function streamWebhooks<T extends { id: string }>(
  bodies: readonly T[],
  options: WebhookStreamOptions,
): Promise<WebhookStreamResult<T>> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const outcomes: DeliveryOutcome[] = [];
  let next = 0;
  let dispatched = 0;
  let inFlight = 0;
  let stopped = false;
  const worker = async () => {
    while (!stopped && next < bodies.length) {
      const body = bodies[next++]!;
      inFlight++;
      const pending = postWebhook(options.url, body, options.headers, { agent, timeoutMs: options.timeoutMs ?? 15_000 });
      dispatched++;
      if (options.onDispatched?.(dispatched, inFlight) === "stop") stopped = true;
      outcomes.push(await pending);
      inFlight--;
    }
  };
  try {
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  } finally {
    agent.destroy();
  }
  return { outcomes, unsent: bodies.slice(next) };
}

/** One POST; resolves with its outcome, never rejects. */
export function postWebhook(
  url: string,
  body: { id: string },
  headers: Record<string, string>,
  options: { agent?: http.Agent; timeoutMs?: number } = {},
): Promise<DeliveryOutcome> {
  const payload = Buffer.from(JSON.stringify(body));
  return new Promise((resolve) => {
    let settled = false;
    const settle = (outcome: DeliveryOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const request = http.request(
      url,
      {
        method: "POST",
        agent: options.agent ?? false,
        headers: { "content-type": "application/json", "content-length": String(payload.length), ...headers },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", (error: NodeJS.ErrnoException) => settle({ id: body.id, kind: "connection-error", code: error.code ?? error.message }));
        response.on("end", () => {
          const answer = Buffer.concat(chunks).toString("utf8");
          const status = response.statusCode ?? 0;
          settle(status === 200 ? { id: body.id, kind: "acknowledged", status, answer } : { id: body.id, kind: "status", status, answer });
        });
        // A connection cut after the headers but before the end of the body.
        response.on("close", () => {
          if (!response.complete) settle({ id: body.id, kind: "connection-error", code: "ABORTED" });
        });
      },
    );
    const timer = setTimeout(() => {
      settle({ id: body.id, kind: "connection-error", code: "TIMEOUT" });
      request.destroy();
    }, options.timeoutMs ?? 15_000);
    request.on("error", (error: NodeJS.ErrnoException) => settle({ id: body.id, kind: "connection-error", code: error.code ?? error.message }));
    request.end(payload);
  });
}

/** Counts outcomes by kind, and connection errors by code, for logs and assertions. */
export function summarize(outcomes: readonly DeliveryOutcome[]) {
  const byCode: Record<string, number> = {};
  const byStatus: Record<string, number> = {};
  for (const o of outcomes) {
    if (o.kind === "connection-error") byCode[o.code] = (byCode[o.code] ?? 0) + 1;
    else byStatus[o.status] = (byStatus[o.status] ?? 0) + 1;
  }
  return {
    acknowledged: outcomes.filter((o) => o.kind === "acknowledged").length,
    otherStatus: outcomes.filter((o) => o.kind === "status").length,
    connectionErrors: outcomes.filter((o) => o.kind === "connection-error").length,
    byStatus,
    byCode,
  };
}
