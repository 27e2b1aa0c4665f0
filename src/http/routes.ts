/**
 * The Express pieces around the GraphQL and webhook routes: the request log line, CORS for
 * the configured origins, the operational endpoints (/healthz, /readyz, /metrics), and JSON
 * answers for body-parser failures.
 */
import express, { type ErrorRequestHandler, type RequestHandler, type Router } from "express";
import type { Logger } from "../kit/logger.js";
import type { Metrics } from "../kit/metrics.js";
import { logRequest, pathOf } from "./kit.js";

/**
 * One log line per request once it is answered, with the path the client asked for: read when
 * the request starts, because a router mounted on a path (`app.use("/graphql", …)`) strips
 * its mount point from `req.url` while it handles the request, so by the time the answer is
 * finished `req.path` says "/".
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const path = pathOf(req.originalUrl);
    res.on("finish", () => logRequest(logger, { requestId: res.getHeader("x-request-id"), method: req.method, path }, res.statusCode, started));
    next();
  };
}

export interface OpsOptions {
  /** Resolves when the database answers within the time, rejects otherwise. */
  pingDatabase: (timeoutMs: number) => Promise<void>;
  metrics: Metrics;
  metricsToken?: string | undefined;
  /** Shown in /readyz: whether video mutations can work at all. */
  hmsConfigured?: boolean;
}

/** GET /healthz (process up), GET /readyz (database reachable, else 503), GET /metrics. */
export function opsRoutes(options: OpsOptions): Router {
  const router = express.Router();
  router.get("/metrics", async (req, res) => {
    if (options.metricsToken && req.headers.authorization !== `Bearer ${options.metricsToken}`) {
      res.status(401).end();
      return;
    }
    res.setHeader("content-type", options.metrics.registry.contentType);
    res.end(await options.metrics.registry.metrics());
  });
  router.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // 100ms missing does not make the instance unready (queries still work), but it is said here.
  const hms = () => (options.hmsConfigured === false ? "not configured (video mutations answer UPSTREAM_UNAVAILABLE)" : "configured");
  router.get("/readyz", async (_req, res) => {
    try {
      await options.pingDatabase(1500);
      res.json({ status: "ready", checks: { database: "up", hms: hms() } });
    } catch {
      res.status(503).json({ status: "unavailable", checks: { database: "down", hms: hms() } });
    }
  });
  return router;
}

/** CORS for the listed browser origins only; preflights answered here. */
export function cors(origins: readonly string[]): RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-allow-headers", "authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id, last-event-id");
      res.setHeader("access-control-allow-methods", "GET, POST, OPTIONS");
      res.setHeader("access-control-max-age", "600");
    }
    if (req.method === "OPTIONS") {
      res.status(204).end();
      return;
    }
    next();
  };
}

/** Body-parser failures (bad JSON, too large) answer JSON, not express's HTML page. */
export function jsonErrors(logger: Logger): ErrorRequestHandler {
  return (error: { status?: number; type?: string }, _req, res, _next) => {
    const status = error.status && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) logger.error({ errorClass: (error as Error).name }, "unhandled HTTP error");
    const message =
      error.type === "entity.parse.failed"
        ? "Request body is not valid JSON"
        : error.type === "entity.too.large"
          ? "Request body too large"
          : status === 500
            ? "Internal server error"
            : "Bad request";
    res.status(status).json({ errors: [{ message, extensions: { code: status === 500 ? "INTERNAL_SERVER_ERROR" : "BAD_REQUEST" } }] });
  };
}
