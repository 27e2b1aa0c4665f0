/**
 * What every subscription transport (graphql-ws and the legacy protocol, Server-Sent Events)
 * shares besides the request pipeline: one `subscribe` over the pipeline's documents (cached by
 * their text, so a query is the same document on every transport), so an event that reaches
 * subscribers of the same document, variables and rights on several transports is executed
 * once, from one cache of compiled queries.
 */
import type { GraphQLSchema } from "graphql";
import type { Metrics } from "../kit/metrics.js";
import { resolutionKey, type GraphQLContext } from "../graphql/context.js";
import { eventExecution, sharedSubscribe, type SharedSubscribe } from "./shared-subscribe.js";

export interface SubscriptionExecution {
  subscribe: SharedSubscribe;
}

export function subscriptionExecution(options: {
  schema: GraphQLSchema;
  /** Subscription events executed by graphql-jit (GRAPHQL_JIT); default on. */
  compiledExecution?: boolean | undefined;
  metrics: Metrics;
}): SubscriptionExecution {
  return {
    // Each event executed and formatted once per distinct document, variables and rights.
    subscribe: sharedSubscribe((context) => resolutionKey(context as GraphQLContext), eventExecution(options.schema, options.compiledExecution, options.metrics)),
  };
}
