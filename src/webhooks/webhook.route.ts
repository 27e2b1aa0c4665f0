/**
 * POST /webhooks/100ms: authenticates the sender, reads the body and hands it to the
 * webhook intake (stored before the 200, applied right after). A duplicate delivery is a
 * 200 that changes nothing; when the database cannot take the event the answer is 503
 * (never 200) so 100ms retries. Answers are plain HTTP statuses, never GraphQL errors.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import express, { type RequestHandler, type Router } from "express";
import type { WebhookConfig } from "../config.js";
import { logRequest, pathOf, readBody, sendJson } from "../http/kit.js";
import type { Logger } from "../logger.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { IntakeOutcome, WebhookIntake } from "./webhook-intake.service.js";

export const WEBHOOK_PATH = "/webhooks/100ms";
export const MAX_WEBHOOK_BYTES = 64 * 1024;

export interface WebhookDeps {
  config: WebhookConfig;
  intake: WebhookIntake;
  rateLimits: RateLimits;
  logger: Logger;
}

export interface WebhookEndpoint {
  /** The Express route: every request to the path, including refusals. */
  router: Router;
  /**
   * The hot path, in front of Express: an authenticated POST with a plain body is answered
   * here with the same rules and answers. Returns false, having consumed nothing, for
   * anything else (wrong or missing secret, an encoded body, another method), which goes
   * to the router.
   */
  tryFastPath(req: IncomingMessage, res: ServerResponse): boolean;
}

const ANSWERS: Record<IntakeOutcome, { status: number; json: object }> = {
  accepted: { status: 200, json: { status: "accepted" } },
  duplicate: { status: 200, json: { status: "duplicate" } },
  invalid: { status: 400, json: { error: "not a 100ms webhook envelope" } },
  unavailable: { status: 503, json: { error: "temporarily unavailable" } },
};
const UNREADABLE: Record<400 | 413 | 415, { status: number; json: object }> = {
  400: { status: 400, json: { error: "bad request body" } },
  413: { status: 413, json: { error: "request entity too large" } },
  415: { status: 415, json: { error: "unsupported content encoding" } },
};

export function webhookEndpoint(deps: WebhookDeps): WebhookEndpoint {
  const expected = deps.config.secret ? digest(deps.config.secret) : null;
  const authentic = (headers: IncomingHttpHeaders) => {
    const given = headers[deps.config.header];
    return expected !== null && typeof given === "string" && timingSafeEqual(digest(given), expected);
  };
  const answer = async (req: IncomingMessage) => {
    const read = await readBody(req, MAX_WEBHOOK_BYTES);
    if (!read.ok) return UNREADABLE[read.status];
    return ANSWERS[await deps.intake.accept(read.body)];
  };

  const router = express.Router();
  router.post(WEBHOOK_PATH, authenticateSender(authentic, expected !== null, deps.rateLimits), async (req, res) => {
    const { status, json } = await answer(req);
    res.status(status).json(json);
  });

  const tryFastPath = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || pathOf(req.url) !== WEBHOOK_PATH) return false;
    const encoding = req.headers["content-encoding"];
    if ((encoding && encoding !== "identity") || !authentic(req.headers)) return false;
    const started = performance.now();
    answer(req).then(
      ({ status, json }) => {
        sendJson(res, status, json);
        logRequest(deps.logger, { method: "POST", path: WEBHOOK_PATH }, status, started);
      },
      () => req.destroy(),
    );
    return true;
  };

  return { router, tryFastPath };
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
