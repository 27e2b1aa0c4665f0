/**
 * POST /webhooks/100ms: authenticates the sender, reads the body and hands it to the
 * webhook intake (stored before the 200, applied right after). A duplicate delivery is a
 * 200 that changes nothing; when the database cannot take the event the answer is 503
 * (never 200) so 100ms retries. Answers are plain HTTP statuses, never GraphQL errors.
 *
 * HIPAA workspaces also sign every delivery (`x-100ms-signature`); with a signing secret
 * configured, a delivery whose signature does not match its raw body is refused like a wrong
 * secret header (401, counted toward the failure limit) and nothing of it is stored.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import express, { type RequestHandler, type Router } from "express";
import type { WebhookConfig } from "../config/config.js";
import { logRequest, pathOf, readBody, sendJson } from "../http/kit.js";
import type { Logger } from "../kit/logger.js";
import { inSpan, SpanKind } from "../kit/tracing.js";
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { IntakeOutcome, WebhookIntake } from "./webhook-intake.service.js";

export const WEBHOOK_PATH = "/webhooks/100ms";
export const MAX_WEBHOOK_BYTES = 64 * 1024;

export interface WebhookDeps {
  config: WebhookConfig;
  intake: WebhookIntake;
  rateLimits: RateLimits;
  logger: Logger;
  /** The client address failures are counted against (Express's `req.ip` rules); default: the socket's. */
  clientIp?: (req: IncomingMessage) => string | null;
}

type Answer = { status: number; json: object; headers?: Record<string, string> };

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

export const SIGNATURE_HEADER = "x-100ms-signature";

const ANSWERS: Record<IntakeOutcome, Answer> = {
  accepted: { status: 200, json: { status: "accepted" } },
  duplicate: { status: 200, json: { status: "duplicate" } },
  invalid: { status: 400, json: { error: "not a 100ms webhook envelope" } },
  unavailable: { status: 503, json: { error: "temporarily unavailable" } },
};
const UNREADABLE: Record<400 | 413 | 415, Answer> = {
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
  const signed = signatureCheck(deps.config.signingSecret);
  const clientIp = deps.clientIp ?? ((req: IncomingMessage) => req.socket.remoteAddress ?? null);
  const refuse = (req: IncomingMessage) => refusal(deps.rateLimits, clientIp(req));
  const answer = (req: IncomingMessage): Promise<Answer> => receiptSpan(async () => {
    const read = await readBody(req, MAX_WEBHOOK_BYTES);
    if (!read.ok) return UNREADABLE[read.status];
    if (!signed(req.headers, read.body)) return refuse(req);
    return ANSWERS[await deps.intake.accept(read.body)];
  });

  const router = express.Router();
  router.post(WEBHOOK_PATH, authenticateSender(authentic, expected !== null, refuse), async (req, res) => {
    const { status, json, headers = {} } = await answer(req);
    res.status(status).set(headers).json(json);
  });

  const tryFastPath = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (req.method !== "POST" || pathOf(req.url) !== WEBHOOK_PATH) return false;
    const encoding = req.headers["content-encoding"];
    if ((encoding && encoding !== "identity") || !authentic(req.headers)) return false;
    const started = performance.now();
    answer(req).then(
      ({ status, json, headers }) => {
        sendJson(res, status, json, headers);
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
  refuse: (req: IncomingMessage) => Promise<Answer>,
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
    const { status, json, headers = {} } = await refuse(req);
    res.status(status).set(headers).json(json);
  };
}

/**
 * Guessing the secret (or a signature) from one address is throttled: 401, then 429. When the
 * rate-limit store fails the attempt is not let through unthrottled: 503, as every other
 * transport answers our own faults (100ms retries a 503).
 */
async function refusal(rateLimits: RateLimits, ip: string | null): Promise<Answer> {
  const decision = await rateLimits.webhookFailure(ip).catch(() => null);
  if (!decision) return { status: 503, json: { error: "unavailable, retry" }, headers: { "retry-after": "1" } };
  if (!decision.allowed) {
    return { status: 429, json: { error: "too many failed attempts" }, headers: { "retry-after": String(decision.retryAfterSeconds) } };
  }
  return { status: 401, json: { error: "unauthorized" } };
}

/**
 * `x-100ms-signature`: HMAC-SHA256 of the raw body, lowercase hex (100ms's sample). The
 * exact format is not documented beyond that, so upper case and a `sha256=` prefix are
 * accepted too. Without a signing secret every delivery passes.
 */
function signatureCheck(secret: string | undefined): (headers: IncomingHttpHeaders, body: Buffer) => boolean {
  if (!secret) return () => true;
  return (headers, body) => {
    const given = headers[SIGNATURE_HEADER];
    if (typeof given !== "string") return false;
    const hex = given.trim().toLowerCase().replace(/^sha256=/, "");
    if (!/^[0-9a-f]{64}$/.test(hex)) return false;
    const expected = createHmac("sha256", secret).update(body).digest();
    return timingSafeEqual(Buffer.from(hex, "hex"), expected);
  };
}

function digest(value: string): Buffer {
  return createHash("sha256").update(value, "utf8").digest();
}

/** The receipt's server span (the intake adds the event's id and type); the trace of a webhook starts here. */
function receiptSpan(answer: () => Promise<Answer>): Promise<Answer> {
  const attributes = () => ({ "http.request.method": "POST", "http.route": WEBHOOK_PATH });
  return inSpan(`POST ${WEBHOOK_PATH}`, async (span) => {
    const result = await answer();
    span?.setAttribute("http.response.status_code", result.status);
    return result;
  }, { kind: SpanKind.SERVER, attributes });
}
