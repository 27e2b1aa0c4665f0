/**
 * What every subscription transport (graphql-ws and the legacy protocol, Server-Sent Events)
 * shares besides the request pipeline: one `subscribe` over the pipeline's documents (cached by
 * their text, so a query is the same document on every transport), so an event that reaches
 * subscribers of the same document, variables and rights on several transports is executed
 * once, from one cache of compiled queries.
 */
import { execute, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from "graphql";
import type { Metrics } from "../kit/metrics.js";
import { resolutionKey, type GraphQLContext } from "../graphql/context.js";
import { eventExecution, sharedSubscribe, type SharedSubscribe } from "./shared-subscribe.js";
import { socketOperationSpan } from "./operation-tracing.js";

export interface SubscriptionExecution {
  subscribe: SharedSubscribe;
  /** A query's or mutation's execution on a socket or stream (graphql's, in its span). */
  execute: (args: ExecutionArgs) => Promise<ExecutionResult>;
}

export function subscriptionExecution(options: {
  schema: GraphQLSchema;
  /** Subscription events executed by graphql-jit (GRAPHQL_JIT); default on. */
  compiledExecution?: boolean | undefined;
  metrics: Metrics;
}): SubscriptionExecution {
  // Each event executed and formatted once per distinct document, variables and rights.
  const subscribe = sharedSubscribe((context) => resolutionKey(context as GraphQLContext), eventExecution(options.schema, options.compiledExecution, options.metrics));
  return {
    subscribe: (args) => socketOperationSpan(args, () => subscribe(args)),
    execute: (args) => socketOperationSpan(args, async () => execute(args)),
  };
}
