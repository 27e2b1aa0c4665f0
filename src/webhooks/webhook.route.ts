/**
 * POST /webhooks/100ms. Durable before acknowledged: the raw event is in the inbox before the
 * 200, and is applied right after by the webhook queue (100ms does not wait on our
 * projection). A duplicate delivery is a 200 that changes nothing; when the database cannot
 * take the event the answer is 503 (never 200) so 100ms retries. Answers are plain HTTP statuses.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import express, { type RequestHandler, type Router } from "express";
import type { WebhookConfig } from "../config.js";
import type { Db } from "../db/client.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { parseEnvelope } from "./envelope.js";
import { InboxRepo } from "./inbox.repo.js";
import { InboxWriter } from "./inbox-writer.js";
import type { WebhookQueue } from "./webhook-queue.js";

export const WEBHOOK_PATH = "/webhooks/100ms";
export const MAX_WEBHOOK_BYTES = 64 * 1024;

export interface WebhookDeps {
  config: WebhookConfig;
  db: Db;
  queue: WebhookQueue;
  rateLimits: RateLimits;
  logger: Logger;
  metrics: Metrics;
}

export interface WebhookEndpoint {
  /** The Express route: every request to the path, including refusals. */
  router: Router;
  /**
   * The hot path, in front of Express: an authenticated POST with a plain body is answered
   * here with the same rules and answers (Express's routing and body parsing are about a third
   * of the CPU of an acknowledgement). Returns false, having consumed nothing, for anything
   * else (wrong or missing secret, an encoded body, another method), which goes to the router.
   */
  tryFastPath(req: IncomingMessage, res: ServerResponse): boolean;
}

export function webhookEndpoint(deps: WebhookDeps): WebhookEndpoint {
  const count = (type: string, outcome: string) => deps.metrics.webhooks.inc({ type: deps.metrics.webhookType(type), outcome });
  const writer = new InboxWriter(deps.db);
  const expected = deps.config.secret ? digest(deps.config.secret) : null;
  const authentic = (headers: IncomingHttpHeaders) => {
    const given = headers[deps.config.header];
    return expected !== null && typeof given === "string" && timingSafeEqual(digest(given), expected);
  };

  /** Everything after authentication: the answer for a body. */
  const accept = async (body: Buffer): Promise<{ status: number; json: object }> => {
    const envelope = parseEnvelope(body);
    if (!envelope) {
      count("invalid", "rejected");
      return { status: 400, json: { error: "not a 100ms webhook envelope" } };
    }
    let processed = false;
    try {
      const first = await writer.store(envelope);
      if (!first) processed = await new InboxRepo(deps.db).isProcessed(envelope.id);
    } catch (error) {
      deps.logger.error({ errorClass: (error as Error).name, webhookId: envelope.id }, "webhook not stored: database unavailable");
      return { status: 503, json: { error: "temporarily unavailable" } };
    }
    // A redelivery of an event stored but not applied yet (say, before a restart) is queued again.
    if (!processed) deps.queue.enqueue(envelope);
    // "accepted" when this delivery will be applied; "duplicate" when it changes nothing.
    if (processed) count(envelope.type, "duplicate");
    return { status: 200, json: { status: processed ? "duplicate" : "accepted" } };
  };

  const router = express.Router();
  router.post(WEBHOOK_PATH, authenticateSender(authentic, expected !== null, deps.rateLimits), express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }), async (req, res) => {
    const answer = Buffer.isBuffer(req.body) ? await accept(req.body) : await accept(Buffer.alloc(0));
    res.status(answer.status).json(answer.json);
  });

  const tryFastPath = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || pathOf(req.url) !== WEBHOOK_PATH) return false;
    const encoding = req.headers["content-encoding"];
    if ((encoding && encoding !== "identity") || !authentic(req.headers)) return false;
    const started = performance.now();
    const send = (status: number, json: object) => {
      const body = JSON.stringify(json);
      res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
      res.end(body);
      deps.logger.info({ method: "POST", path: WEBHOOK_PATH, status, ms: Math.round(performance.now() - started) }, "request");
    };
    readBody(req, MAX_WEBHOOK_BYTES).then(
      (body) => (body === null ? send(413, { error: "request entity too large" }) : accept(body).then((a) => send(a.status, a.json))),
      () => req.destroy(),
    );
    return true;
  };

  return { router, tryFastPath };
}

/** The whole body, or null once it is longer than `limit` (the rest is not read). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  const declared = Number(req.headers["content-length"]);
  if (declared > limit) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    req.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > limit) {
        // Answer now; the rest of the body is read and dropped, as body-parser does.
        req.removeAllListeners("data");
        req.resume();
        resolve(null);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks, length)));
    req.on("error", reject);
  });
}

function pathOf(url: string | undefined): string | undefined {
  const query = url?.indexOf("?") ?? -1;
  return query === -1 ? url : url!.slice(0, query);
}

/** 100ms sends static custom headers configured in its dashboard: compare in constant time. */
function authenticateSender(
  authentic: (headers: IncomingHttpHeaders) => boolean,
  configured: boolean,
  rateLimits: RateLimits,
): RequestHandler {
  return async (req, res, next) => {
    if (!configured) {
      res.status(503).json({ error: "webhooks are not configured" });
      return;
    }
    if (authentic(req.headers)) {
      next();
      return;
    }
    // Guessing the secret from one address is throttled.
    const decision = await rateLimits.webhookFailure(req.ip ?? null).catch(() => ({ allowed: true, retryAfterSeconds: 0 }));
    if (!decision.allowed) {
      res.setHeader("retry-after", String(decision.retryAfterSeconds));
      res.status(429).json({ error: "too many failed attempts" });
      return;
    }
    res.status(401).json({ error: "unauthorized" });
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}
