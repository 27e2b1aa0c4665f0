/**
 * Apollo for POST/GET /graphql: the schema, the executor (graphql-jit unless GRAPHQL_JIT is
 * off, compiled-executor.ts), and the request pipeline's pieces (request-pipeline.ts) as
 * Apollo's hooks: its validation rules, operation check, read audit and context builder, which
 * the Express route and the fast path both use.
 */
import type { IncomingHttpHeaders, Server } from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginCacheControlDisabled } from "@apollo/server/plugin/disabled";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { Logger } from "../kit/logger.js";
import type { Metrics } from "../kit/metrics.js";
import type { Services } from "../app/services.js";
import { compiledExecutionGateway } from "./compiled-executor.js";
import type { GraphQLContext } from "../graphql/context.js";
import { errorLoggingPlugin, formatError } from "./format-error.js";
import { hideFormattedSuggestions } from "./request-check.js";
import { limitRules, type QueryLimits } from "./limits.js";
import type { RequestPipeline } from "./request-pipeline.js";

export interface ApolloOptions {
  schema: GraphQLSchema;
  httpServer: Server;
  services: Services;
  pipeline: RequestPipeline;
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
    // Introspection is refused in production by limitRules (the same list the sockets use), not by Apollo's switch.
    introspection: true,
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
      durationPlugin(metrics),
      subscriptionsOverWebSocketOnly(),
      ...options.pipeline.apolloPlugins(),
    ],
  });
  await apollo.start();
  return { apollo, context: (request) => options.pipeline.httpContext(request) };
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
