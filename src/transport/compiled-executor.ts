/**
 * Execution of HTTP operations by graphql-jit: a document Apollo has parsed, validated and
 * weighed is compiled into a function that calls the same resolvers as graphql-js, with the
 * same data and errors (test/api/compiled-execution.test.ts sends every operation both ways).
 *
 * Apollo Server 5 has no executor option; the gateway interface (`load` -> `{ executor }`) is
 * its documented hook for one, and everything around execution stays Apollo's: parsing,
 * validation and limits, plugins (audit, cost, durations, error logging), `formatError`, the
 * variable-error codes, the fast path in front of Express. WebSocket and SSE subscriptions do
 * not go through Apollo: their events use the same compiled queries (shared-subscribe.ts).
 *
 * Documents are compiled on their second execution and kept per Apollo's `queryHash` and
 * operation name (compiled-queries.ts); until then, and when graphql-jit cannot compile one,
 * graphql-js executes it. Variables are coerced twice: by graphql-js once for the cost limit
 * and this executor alike (variable-values.ts: whether graphql-js accepts them decides who
 * answers, for Apollo's BAD_USER_INPUT), and by graphql-jit's compiled query itself, which
 * takes only raw values.
 */
import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import { execute, printSchema, type GraphQLSchema } from "graphql";
import type { GraphQLContext } from "../graphql/context.js";
import { CompiledQueries, executeCompiled, type ExecutorKind } from "./compiled-queries.js";
import { coerceVariables } from "./variable-values.js";

type Gateway = ApolloServerOptionsWithGateway<GraphQLContext>["gateway"];
type Executor = NonNullable<Awaited<ReturnType<Gateway["load"]>>["executor"]>;
type SchemaListener = Parameters<Gateway["onSchemaLoadOrUpdate"]>[0];

export interface CompiledExecutionOptions {
  /** Distinct documents kept compiled (or known not to compile), least recently used first out. */
  maxDocuments?: number;
  onExecute?: (kind: ExecutorKind) => void;
}

/** An Apollo `gateway` that serves `schema` and executes with graphql-jit. */
export function compiledExecutionGateway(schema: GraphQLSchema, options: CompiledExecutionOptions = {}): Gateway {
  const queries = new CompiledQueries(schema, options.maxDocuments);
  const listeners = new Set<SchemaListener>();

  const executor: Executor = async (request) => {
    const { document, context, operation, queryHash } = request;
    const { operationName, variables } = request.request;
    // No operation (none by that name): graphql-js gives the error Apollo turns into a 400.
    // The hash is fixed-length hex: the key cannot be ambiguous.
    const compiled = operation ? queries.lookup(`${queryHash} ${operationName ?? ""}`, document, operationName) : null;
    // Variables graphql-js refuses are its to answer (the cost limit coerced them already).
    const result = compiled && coerceVariables(schema, operation, variables).errors === undefined ? executeCompiled(compiled, undefined, context, variables) : null;
    options.onExecute?.(result ? "compiled" : "graphql-js");
    return result ?? execute({ schema, document, contextValue: context, variableValues: variables, operationName });
  };

  return {
    onSchemaLoadOrUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async load() {
      const loaded = { apiSchema: schema, coreSupergraphSdl: printSchema(schema) };
      for (const listener of listeners) listener(loaded);
      return { executor };
    },
    async stop() {
      queries.clear();
    },
  };
}
