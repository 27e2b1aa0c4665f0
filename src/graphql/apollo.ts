/**
 * Apollo for POST/GET /graphql: the schema with the query limits, the plugins, the executor
 * (graphql-jit unless GRAPHQL_JIT is off, compiled-executor.ts), and the one
 * context builder that the Express route and the fast path both use (the token verified,
 * anonymous callers rate-limited per client IP, a request id).
 */
import { randomUUID } from "node:crypto";
import type { IncomingHttpHeaders, Server } from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { authenticate } from "../auth/authenticate.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { Logger } from "../logger.js";
import type { Metrics } from "../metrics.js";
import type { Services } from "../services.js";
import { auditReadsPlugin } from "./audit-reads.plugin.js";
import { compiledExecutionGateway } from "./compiled-executor.js";
import { createContext, type GraphQLContext } from "./context.js";
import { errorLoggingPlugin, formatError } from "./format-error.js";
import { hideFormattedSuggestions } from "./request-check.js";
import { costLimitPlugin, limitRules, type QueryLimits } from "./limits.js";

export interface ApolloOptions {
  schema: GraphQLSchema;
  httpServer: Server;
  services: Services;
  verifyToken: TokenVerifier;
  logger: Logger;
  limits: QueryLimits;
  /** Execute with graphql-jit (compiled-executor.ts); default on. */
  compiledExecution?: boolean;
  isProduction: boolean;
  shutdownTimeoutMs: number;
  /** Closes every subscription socket (1001 "Going away") when Apollo drains. */
  disposeSockets: () => Promise<void>;
}

/** What a request brings to the context, whichever way it came in. */
export interface HttpRequestFacts {
  headers: IncomingHttpHeaders;
  clientIp: string | null;
  setHeader: (name: string, value: string) => void;
}

export type HttpContextBuilder = (request: HttpRequestFacts) => Promise<GraphQLContext>;

export async function startApollo(options: ApolloOptions): Promise<{ apollo: ApolloServer<GraphQLContext>; context: HttpContextBuilder }> {
  const { metrics } = options.services;
  const apollo = new ApolloServer<GraphQLContext>({
    ...(options.compiledExecution === false
      ? { schema: options.schema }
      : { gateway: compiledExecutionGateway(options.schema, { onExecute: (executor) => metrics.graphqlExecutions.inc({ executor }) }) }),
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
    // Apollo's `hideSchemaDetailsFromClientErrors` covers validation errors only: a variable
    // that does not coerce ("Field "x" is not defined by type "MedicationInput". Did you mean …")
    // would still name the schema's fields in production.
    formatError: (formatted, error) => hideFormattedSuggestions(formatError(formatted, error), options.isProduction),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: options.httpServer, stopGracePeriodMillis: options.shutdownTimeoutMs }),
      // We set no cache hints; Apollo's default cache-control plugin would still hook every field.
      ApolloServerPluginCacheControlDisabled(),
      { serverWillStart: async () => ({ drainServer: options.disposeSockets }) },
      errorLoggingPlugin(options.logger),
      costLimitPlugin(options.limits, options.isProduction),
      durationPlugin(metrics),
      subscriptionsOverWebSocketOnly(),
      auditReadsPlugin(),
    ],
  });
  await apollo.start();
  const context: HttpContextBuilder = async (request) => {
    const requestId = requestIdFrom(request.headers["x-request-id"]);
    request.setHeader("x-request-id", requestId);
    const auth = await authenticate(request.headers.authorization, options.verifyToken, options.services.findViewer);
    if (!auth.viewer) await limitAnonymous(options.services, request.clientIp, request.setHeader);
    return createContext({ requestId, clientIp: request.clientIp, auth, services: options.services });
  };
  return { apollo, context };
}

/** Subscriptions are served over WebSocket on the same path; over HTTP they are a clear 400. */
function subscriptionsOverWebSocketOnly(): ApolloServerPlugin {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation === "subscription") {
            throw new GraphQLError("Subscriptions are served over WebSocket (graphql-ws) at /graphql and over Server-Sent Events at /graphql/stream", {
              extensions: { code: "BAD_REQUEST", http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}

/** GraphQL request duration by operation and outcome. */
function durationPlugin(metrics: Metrics): ApolloServerPlugin<GraphQLContext> {
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
function requestIdFrom(given: string | string[] | undefined): string {
  return typeof given === "string" && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
}
