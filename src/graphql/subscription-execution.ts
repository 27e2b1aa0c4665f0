/**
 * What every subscription transport (graphql-ws and the legacy protocol, Server-Sent Events)
 * shares: one request check, whose valid documents are cached by their text, so a query is the
 * same document on every transport; and one `subscribe` over those documents, so an event
 * that reaches subscribers of the same document, variables and rights on several transports
 * is executed once, from one cache of compiled queries.
 */
import type { GraphQLSchema } from "graphql";
import type { Metrics } from "../metrics.js";
import { resolutionKey, type GraphQLContext } from "./context.js";
import type { QueryLimits } from "./limits.js";
import { createRequestCheck, type RequestCheck } from "./request-check.js";
import { eventExecution, sharedSubscribe, type SharedSubscribe } from "./shared-subscribe.js";

export interface SubscriptionExecution {
  checkRequest: RequestCheck;
  subscribe: SharedSubscribe;
}

export function subscriptionExecution(options: {
  schema: GraphQLSchema;
  limits: QueryLimits;
  isProduction: boolean;
  /** Subscription events executed by graphql-jit (GRAPHQL_JIT); default on. */
  compiledExecution?: boolean | undefined;
  metrics: Metrics;
}): SubscriptionExecution {
  return {
    checkRequest: createRequestCheck(options.limits, options.isProduction),
    // Each event executed and formatted once per distinct document, variables and rights.
    subscribe: sharedSubscribe((context) => resolutionKey(context as GraphQLContext), eventExecution(options.schema, options.compiledExecution, options.metrics)),
  };
}
