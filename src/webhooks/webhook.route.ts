/**
 * POST /webhooks/100ms. Durable before acknowledged: the raw event is in the inbox before the
 * 200, a duplicate delivery is a 200 that changes nothing, and when the database cannot take
 * it the answer is 503 (never 200) so 100ms retries. Answers are plain HTTP statuses.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import express, { type RequestHandler, type Router } from "express";
import type { WebhookConfig } from "../config.js";
import type { Db } from "../db/client.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import { parseEnvelope } from "./envelope.js";
import { InboxRepo } from "./inbox.repo.js";
import type { WebhookProcessor } from "./webhook-processor.js";

export const WEBHOOK_PATH = "/webhooks/100ms";
export const MAX_WEBHOOK_BYTES = 64 * 1024;

export function webhookRouter(deps: {
  config: WebhookConfig;
  db: Db;
  processor: WebhookProcessor;
  rateLimits: RateLimits;
  logger: Logger;
  metrics: Metrics;
}): Router {
  const count = (type: string, outcome: string) => deps.metrics.webhooks.inc({ type: deps.metrics.webhookType(type), outcome });
  const router = express.Router();
  router.post(WEBHOOK_PATH, authenticateSender(deps.config, deps.rateLimits), express.raw({ type: () => true, limit: MAX_WEBHOOK_BYTES }), async (req, res) => {
    const envelope = Buffer.isBuffer(req.body) ? parseEnvelope(req.body) : null;
    if (!envelope) {
      count("invalid", "rejected");
      res.status(400).json({ error: "not a 100ms webhook envelope" });
      return;
    }
    const inbox = new InboxRepo(deps.db);
    let first: boolean;
    try {
      first = (await inbox.store(envelope)) || !(await inbox.isProcessed(envelope.id));
    } catch (error) {
      deps.logger.error({ errorClass: (error as Error).name, webhookId: envelope.id }, "webhook not stored: database unavailable");
      res.status(503).json({ error: "temporarily unavailable" });
      return;
    }
    if (first) count(envelope.type, await processStored(deps, envelope));
    else count(envelope.type, "duplicate");
    res.status(200).json({ status: first ? "accepted" : "duplicate" });
  });
  return router;
}

/** Stored already, so a failure here loses nothing: the reconciler retries unprocessed rows. */
async function processStored(
  deps: { processor: WebhookProcessor; logger: Logger; db: Db },
  envelope: NonNullable<ReturnType<typeof parseEnvelope>>,
): Promise<string> {
  try {
    const outcome = await deps.processor.process(envelope);
    deps.logger.debug({ webhookId: envelope.id, type: envelope.type, outcome }, "webhook processed");
    return outcome;
  } catch (error) {
    deps.logger.warn({ errorClass: (error as Error).name, webhookId: envelope.id, type: envelope.type }, "webhook stored, processing deferred");
    await new InboxRepo(deps.db).markFailed(envelope.id).catch(() => undefined);
    return "failed";
  }
}

/** 100ms sends static custom headers configured in its dashboard: compare in constant time. */
function authenticateSender(config: WebhookConfig, rateLimits: RateLimits): RequestHandler {
  const expected = config.secret ? digest(config.secret) : null;
  return async (req, res, next) => {
    if (!expected) {
      res.status(503).json({ error: "webhooks are not configured" });
      return;
    }
    const given = req.headers[config.header];
    if (typeof given === "string" && timingSafeEqual(digest(given), expected)) {
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
