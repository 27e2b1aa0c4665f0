/**
 * Execution of HTTP operations by graphql-jit: a document Apollo has parsed, validated and
 * weighed is compiled into a function that calls the same resolvers as graphql-js, with the
 * same data and errors (test/api/compiled-execution.test.ts sends every operation both ways).
 *
 * Apollo Server 5 has no executor option; the gateway interface (`load` -> `{ executor }`) is
 * its documented hook for one, and everything around execution stays Apollo's: parsing,
 * validation and limits, plugins (audit, cost, durations, error logging), `formatError`, the
 * variable-error codes, the fast path in front of Express. WebSocket and SSE subscriptions do
 * not go through Apollo and keep graphql-js.
 *
 * A document is compiled the second time it is seen (a one-off document, e.g. an abusive one,
 * costs no compilation) and kept in a bounded LRU (200 documents, seen-once ones included);
 * until then, and when graphql-jit cannot compile it, graphql-js executes it.
 */
import type { ApolloServerOptionsWithGateway } from "@apollo/server";
import { execute, getVariableValues, GraphQLError, printSchema, type GraphQLSchema } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { LRUCache } from "lru-cache";
import type { GraphQLContext } from "./context.js";

type Gateway = ApolloServerOptionsWithGateway<GraphQLContext>["gateway"];
type Executor = NonNullable<Awaited<ReturnType<Gateway["load"]>>["executor"]>;
type SchemaListener = Parameters<Gateway["onSchemaLoadOrUpdate"]>[0];

/** Which executor ran an operation (for the metrics). */
export type ExecutorKind = "compiled" | "graphql-js";

export interface CompiledExecutionOptions {
  /** Distinct documents kept compiled (or known not to compile), least recently used first out. */
  maxDocuments?: number;
  onExecute?: (kind: ExecutorKind) => void;
}

/** Seen once, not compiled yet; or graphql-jit could not compile it. */
const SEEN = "seen";
const NOT_COMPILABLE = "not-compilable";
type Entry = CompiledQuery | typeof SEEN | typeof NOT_COMPILABLE;

/** An Apollo `gateway` that serves `schema` and executes with graphql-jit. */
export function compiledExecutionGateway(schema: GraphQLSchema, options: CompiledExecutionOptions = {}): Gateway {
  const documents = new LRUCache<string, Entry>({ max: options.maxDocuments ?? 200 });
  const listeners = new Set<SchemaListener>();

  const executor: Executor = async (request) => {
    const { document, context } = request;
    const { operationName, variables } = request.request;
    // Operation names are GraphQL names (no spaces): the key cannot be ambiguous.
    const key = `${operationName ?? ""} ${request.source}`;
    let entry = documents.get(key);
    if (entry === SEEN && request.operation) documents.set(key, (entry = compile(schema, request)));
    else if (entry === undefined) documents.set(key, SEEN);
    // No operation (none by that name): graphql-js gives the error Apollo turns into a 400.
    if (!request.operation || entry === undefined || entry === SEEN || entry === NOT_COMPILABLE || !coercible(schema, request)) {
      options.onExecute?.("graphql-js");
      return execute({ schema, document, contextValue: context, variableValues: variables, operationName });
    }
    options.onExecute?.("compiled");
    const result = await entry.query(undefined, context, variables);
    return result.errors ? { ...result, errors: result.errors.map(asLocatedError) } : result;
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
      documents.clear();
    },
  };
}

function compile(schema: GraphQLSchema, request: Parameters<Executor>[0]): Entry {
  try {
    const compiled = compileQuery(schema, request.document, request.request.operationName, {
      // Skip and include decided per path as graphql-js does, also through fragment spreads.
      useExperimentalPathBasedSkipInclude: true,
    });
    return isCompiledQuery(compiled) ? compiled : NOT_COMPILABLE;
  } catch {
    return NOT_COMPILABLE;
  }
}

/**
 * Variables that do not coerce are answered by graphql-js, whose messages and error nodes
 * Apollo recognises (BAD_USER_INPUT); graphql-jit words them differently.
 */
function coercible(schema: GraphQLSchema, request: Parameters<Executor>[0]): boolean {
  const definitions = request.operation.variableDefinitions ?? [];
  if (definitions.length === 0) return true;
  return getVariableValues(schema, definitions, request.request.variables ?? {}, { maxErrors: 1 }).errors === undefined;
}

/**
 * A field error as graphql-js's `locatedError` makes it. graphql-jit's own error objects have
 * no `extensions` unless the thrown error had some (Apollo's formatting then fails) and always
 * wrap, where graphql-js passes an error that already has a path through unchanged.
 */
function asLocatedError(error: GraphQLError): GraphQLError {
  const original = error.originalError ?? undefined;
  if (original instanceof GraphQLError && Array.isArray(original.path)) return original;
  const located = new GraphQLError(error.message, { path: error.path, originalError: original });
  const locations = original instanceof GraphQLError && original.locations ? original.locations : error.locations;
  return Object.assign(located, { locations });
}
