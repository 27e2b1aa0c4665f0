/**
 * One HTTP server: POST/GET /graphql (Apollo, src/transport/apollo.ts, with a fast path in
 * front of Express), graphql-ws on /graphql (src/transport/ws-server.ts), subscriptions over
 * Server-Sent Events on /graphql/stream (src/transport/sse.ts), POST
 * /webhooks/100ms (with its own fast path), GET /healthz, /readyz, /metrics and the dashboard.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { expressMiddleware } from "@as-integrations/express5";
import express from "express";
import type { GraphQLSchema } from "graphql";
import proxyAddr from "proxy-addr";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { WebhookConfig } from "../config/config.js";
import { dashboardRouter } from "../dashboard/dashboard.route.js";
import type { Database } from "../db/client.js";
import { startApollo } from "../transport/apollo.js";
import { graphqlFastPath } from "../transport/http-fast-path.js";
import { tracedHandler } from "../transport/operation-tracing.js";
import type { QueryLimits } from "../transport/limits.js";
import type { WsLimits } from "../transport/ws.js";
import { attachGraphqlWs } from "../transport/ws-server.js";
import { createGraphqlSse, SSE_PATH, type SseLimits } from "../transport/sse.js";
import { subscriptionExecution } from "../transport/subscription-execution.js";
import { RequestPipeline } from "../transport/request-pipeline.js";
import { cors, jsonErrors, opsRoutes, requestLog } from "../http/routes.js";
import type { Logger } from "../kit/logger.js";
import type { Services } from "./services.js";
import { webhookEndpoint } from "../webhooks/webhook.route.js";

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
  /** HTTP operations and subscription events executed by graphql-jit (src/transport/compiled-queries.ts); default on. */
  compiledExecution?: boolean;
  ws: WsLimits;
  sse: SseLimits;
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
  /** The request pipeline (tests read its slot counts). */
  readonly pipeline: RequestPipeline;
}

type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

export async function createApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const app = express();
  app.disable("x-powered-by");
  // No ETags: GraphQL answers are POSTs, never revalidated; hashing every page is wasted work.
  app.set("etag", false);
  if (options.trustProxy) app.set("trust proxy", /^\d+$/.test(options.trustProxy) ? Number(options.trustProxy) : options.trustProxy);
  const trustProxy = app.get("trust proxy fn") as (address: string, hop: number) => boolean;
  const httpServer = createServer();
  // Client addresses by the same trust-proxy rules as Express's req.ip, on every transport.
  const clientIp = (request: IncomingMessage) => proxyAddr(request, trustProxy) ?? null;
  // The one pipeline every way in hands its requests to (identity, admission, checks, audit).
  const pipeline = new RequestPipeline({ ...options, slots: { socket: options.ws.maxSocketsPerUser, stream: options.sse.maxStreamsPerUser } });
  const subscriptions = subscriptionExecution({ ...options, metrics: options.services.metrics });
  const ws = attachGraphqlWs(httpServer, { ...options, pipeline, clientIp, subscriptions });
  const sse = createGraphqlSse({ ...options, pipeline, clientIp, subscriptions });
  options.services.metrics.openSockets = ws.openSockets;
  options.services.metrics.openStreams = sse.openStreams;
  const disposeSockets = async () => void (await Promise.all([ws.dispose(), sse.dispose()]));
  const { apollo, context } = await startApollo({ ...options, pipeline, httpServer, disposeSockets });
  const webhooks = webhookEndpoint({
    config: options.webhooks,
    intake: options.services.webhookIntake,
    rateLimits: options.services.rateLimits,
    logger: options.logger,
    clientIp,
  });

  app.use(requestLog(options.logger));
  app.use(webhooks.router);
  if (options.dashboardEnabled) app.use(dashboardRouter());
  app.use(opsRoutes({ pingDatabase: (ms) => options.database.ping(ms), metrics: options.services.metrics, metricsToken: options.metricsToken, hmsConfigured: options.hmsConfigured }));
  // Before /graphql, whose JSON parser would otherwise take the body.
  app.use(SSE_PATH, cors(options.corsOrigins ?? []), (req, res, next) => void sse.handle(req, res).catch((error: unknown) => (res.headersSent ? res.destroy() : next(error))));
  app.use(
    "/graphql",
    cors(options.corsOrigins ?? []),
    express.json({ limit: "100kb" }),
    tracedHandler(expressMiddleware(apollo, {
      context: ({ req, res }) => context({ headers: req.headers, clientIp: req.ip ?? null, setHeader: (name, value) => res.setHeader(name, value) }),
    })),
  );
  app.use(jsonErrors(options.logger));

  const fastPaths: FastPath[] = [webhooks.tryFastPath, graphqlFastPath({ apollo, context, trustProxy, logger: options.logger })];
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    if (!fastPaths.some((tryFast) => tryFast(req, res))) app(req, res);
  });
  return {
    httpServer,
    listen: (port, host) => listen(httpServer, port, host),
    stop: () => apollo.stop(),
    openSockets: ws.openSockets,
    pipeline,
  };
}

const LISTEN_BACKLOG = 4096;

function listen(httpServer: Server, port: number, host: string): Promise<{ url: string; port: number }> {
  return new Promise((resolve, reject) => {
    httpServer.once("error", reject);
    // A backlog for a reconnect storm: when an instance dies, its thousands of sockets come back
    // here within a few seconds, and Node's default of 511 pending connections resets the rest
    // (the kernel caps it at net.core.somaxconn, 4096 on current kernels).
    httpServer.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      const address = httpServer.address() as AddressInfo;
      const shownHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
      resolve({ url: `http://${shownHost}:${address.port}`, port: address.port });
    });
  });
}
