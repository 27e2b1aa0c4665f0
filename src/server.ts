/**
 * One HTTP server: POST/GET /graphql (Apollo), GET /healthz (process up), GET /readyz
 * (database reachable), graphql-ws on /graphql (src/graphql/ws-server.ts), /webhooks/100ms,
 * /metrics and the dashboard.
 */
import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ApolloServer } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type ErrorRequestHandler } from "express";
import { GraphQLError, type GraphQLSchema } from "graphql";
import proxyAddr from "proxy-addr";
import { authenticate } from "./auth/authenticate.js";
import type { TokenVerifier } from "./auth/token-verifier.js";
import type { Database } from "./db/client.js";
import { createContext, type GraphQLContext } from "./graphql/context.js";
import { auditReadsPlugin } from "./graphql/audit-reads.plugin.js";
import { errorLoggingPlugin, formatError } from "./graphql/format-error.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import type { Services } from "./services.js";
import type { WebhookConfig } from "./config.js";
import { webhookEndpoint } from "./webhooks/webhook.route.js";
import { dashboardRouter } from "./dashboard/dashboard.route.js";
import type { WsLimits } from "./graphql/ws.js";
import { attachGraphqlWs } from "./graphql/ws-server.js";
import { graphqlFastPath } from "./graphql/http-fast-path.js";
import { costLimitPlugin, limitRules, type QueryLimits } from "./graphql/limits.js";

export interface ApiServerOptions {
  schema: GraphQLSchema;
  database: Database;
  services: Services;
  verifyToken: TokenVerifier;
  logger: Logger;
  isProduction: boolean;
  shutdownTimeoutMs: number;
  webhooks: WebhookConfig;
  limits: QueryLimits;
  ws: WsLimits;
  trustProxy?: string | undefined;
  corsOrigins?: readonly string[];
  metricsToken?: string | undefined;
  dashboardEnabled?: boolean;
  /** Shown in /readyz: whether video mutations can work at all. */
  hmsConfigured?: boolean;
}

export interface ApiServer {
  readonly httpServer: Server;
  /** Starts listening; resolves with the bound address (port 0 picks a free port). */
  listen(port: number, host: string): Promise<{ url: string; port: number }>;
  /** Stops accepting, lets in-flight requests finish (up to shutdownTimeoutMs), then closes. */
  stop(): Promise<void>;
  /** WebSockets open now. */
  openSockets(): number;
}

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const app = express();
  app.disable("x-powered-by");
  // No ETags: GraphQL answers are POSTs (never revalidated), and hashing every 20 KB page costs CPU.
  app.set("etag", false);
  if (options.trustProxy) app.set("trust proxy", /^\d+$/.test(options.trustProxy) ? Number(options.trustProxy) : options.trustProxy);
  const webhooks = webhookEndpoint({
    config: options.webhooks,
    intake: options.services.webhookIntake,
    rateLimits: options.services.rateLimits,
    logger: options.logger,
    // Failures are counted per client address, by the same trust-proxy rules as Express's req.ip.
    clientIp: (req) => proxyAddr(req, app.get("trust proxy fn") as (address: string, hop: number) => boolean) ?? null,
  });
  let graphqlFast: ((req: IncomingMessage, res: ServerResponse) => boolean) | null = null;
  const httpServer = createServer((req, res) => {
    if (webhooks.tryFastPath(req, res) || graphqlFast?.(req, res)) return;
    app(req, res);
  });
  const trustProxy = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
  const ws = attachGraphqlWs(httpServer, { ...options, clientIp: (request) => proxyAddr(request, trustProxy) ?? null });
  const { metrics } = options.services;
  metrics.openSockets = ws.openSockets;
  const apollo = new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: !options.isProduction,
    hideSchemaDetailsFromClientErrors: options.isProduction,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    // No automatic persisted queries: clients send documents (a cache of them would need bounds of its own).
    persistedQueries: false,
    validationRules: limitRules(options.limits, options.isProduction),
    parseOptions: { maxTokens: options.limits.maxTokens },
    csrfPrevention: true,
    stopOnTerminationSignals: false,
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer, stopGracePeriodMillis: options.shutdownTimeoutMs }),
      // We set no cache hints; Apollo's default cache-control plugin would still hook every field.
      ApolloServerPluginCacheControlDisabled(),
      // Subscriptions: close every socket with 1001 "Going away" on shutdown.
      {
        serverWillStart: async () => ({
          drainServer: () => ws.dispose(),
        }),
      },
      errorLoggingPlugin(options.logger),
      costLimitPlugin(options.limits, options.isProduction),
      durationPlugin(metrics),
      subscriptionsOverWebSocketOnly(),
      auditReadsPlugin(),
    ],
  });
  await apollo.start();
  /** One context builder for both ways into Apollo (the Express route and the fast path). */
  const graphqlContext = async (request: { headers: IncomingHttpHeaders; clientIp: string | null; setHeader: (name: string, value: string) => void }) => {
    const requestId = requestIdFrom(request.headers["x-request-id"]);
    request.setHeader("x-request-id", requestId);
    const auth = await authenticate(request.headers.authorization, options.verifyToken, options.services.findViewer);
    if (!auth.viewer) await limitAnonymous(options.services, request.clientIp, request.setHeader);
    return createContext({ requestId, clientIp: request.clientIp, auth, services: options.services });
  };

  app.use((req, res, next) => {
    const started = performance.now();
    res.on("finish", () => {
      // Path only: query strings and bodies can carry tokens or patient data.
      options.logger.info(
        { requestId: res.getHeader("x-request-id"), method: req.method, path: req.path, status: res.statusCode, ms: Math.round(performance.now() - started) },
        "request",
      );
    });
    next();
  });
  app.use(webhooks.router);
  if (options.dashboardEnabled) app.use(dashboardRouter());
  app.get("/metrics", async (req, res) => {
    if (options.metricsToken && req.headers.authorization !== `Bearer ${options.metricsToken}`) {
      res.status(401).end();
      return;
    }
    res.setHeader("content-type", metrics.registry.contentType);
    res.end(await metrics.registry.metrics());
  });
  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  // 100ms missing does not make the instance unready (queries still work), but it is said here.
  const hms = () => (options.hmsConfigured === false ? "not configured (video mutations answer UPSTREAM_UNAVAILABLE)" : "configured");
  app.get("/readyz", async (_req, res) => {
    try {
      await options.database.ping(1500);
      res.json({ status: "ready", checks: { database: "up", hms: hms() } });
    } catch {
      res.status(503).json({ status: "unavailable", checks: { database: "down", hms: hms() } });
    }
  });
  app.use(
    "/graphql",
    cors(options.corsOrigins ?? []),
    express.json({ limit: "100kb" }),
    expressMiddleware(apollo, {
      context: ({ req, res }) => graphqlContext({ headers: req.headers, clientIp: req.ip ?? null, setHeader: (name, value) => res.setHeader(name, value) }),
    }),
  );
  graphqlFast = graphqlFastPath({ apollo, context: graphqlContext, trustProxy, logger: options.logger });
  app.use(jsonErrors(options.logger));

  return {
    httpServer,
    listen: (port, host) =>
      new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(port, host, () => {
          const address = httpServer.address() as AddressInfo;
          const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
          resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
        });
      }),
    stop: () => apollo.stop(),
    openSockets: ws.openSockets,
  };
}

/** Subscriptions are served by graphql-ws on the same path; over HTTP they are a clear 400. */
function subscriptionsOverWebSocketOnly(): import("@apollo/server").ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === "subscription") {
            throw new GraphQLError("Subscriptions are served over WebSocket (graphql-ws) at /graphql", {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** GraphQL request duration by operation and outcome. */
function durationPlugin(metrics: Metrics): import("@apollo/server").ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      const started = performance.now();
      return {
        async willSendResponse({ operationName, response }) {
          const body = response.body;
          const failed = body.kind === "single" && (body.singleResult.errors?.length ?? 0) > 0;
          metrics.graphqlDuration.observe(
            { operation: metrics.operationLabel(operationName), outcome: failed ? "error" : "ok" },
            (performance.now() - started) / 1000,
          );
        },
      };
    },
  };
}

/** CORS for the listed browser origins only; preflights answered here. */
function cors(origins: readonly string[]): import("express").RequestHandler {
  const allowed = new Set(origins);
  return (req, res, next) => {
    const origin = req.headers.origin;
    if (origin && allowed.has(origin)) {
      res.setHeader("access-control-allow-origin", origin);
      res.setHeader("vary", "Origin");
      res.setHeader("access-control-allow-headers", "authorization, content-type, apollo-require-preflight, x-apollo-operation-name, x-request-id");
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

/** Requests without a valid token are limited per client IP: 429 with Retry-After. */
async function limitAnonymous(services: Services, clientIp: string | null, setHeader: (name: string, value: string) => void) {
  const decision = await services.rateLimits.anonymous(clientIp);
  if (decision.allowed) return;
  setHeader("retry-after", String(decision.retryAfterSeconds));
  throw new GraphQLError("Too many requests", {
    extensions: { code: "RATE_LIMITED", retryAfterSeconds: decision.retryAfterSeconds, http: { status: 429 } },
  });
}

/** A client-supplied request id is kept when it is short and plain; otherwise a new one. */
export function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === "string" && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
}

/** Body-parser failures (bad JSON, too large) answer JSON, not express's HTML page. */
function jsonErrors(logger: Logger): ErrorRequestHandler {
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
