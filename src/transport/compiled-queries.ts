/**
 * graphql-jit's compiled queries, for the two places that execute with them: HTTP operations
 * (compiled-executor.ts) and subscription events (shared-subscribe.ts). Here is decided which
 * documents are compiled and when, and how a compiled result is made to read exactly as
 * graphql-js's, so either caller can fall back to graphql-js's `execute` at any point.
 *
 * A document is compiled the second time it is executed (a one-off document, e.g. an abusive
 * one, costs no compilation) and kept in a bounded LRU, seen-once ones included; until then,
 * and when graphql-jit cannot compile it, the caller executes it with graphql-js.
 */
import { GraphQLError, type DocumentNode, type ExecutionResult, type GraphQLSchema } from "graphql";
import { compileQuery, isCompiledQuery, type CompiledQuery } from "graphql-jit";
import { LRUCache } from "lru-cache";

/** Which executor ran an operation or an event (for the metrics). */
export type ExecutorKind = "compiled" | "graphql-js";

/** Seen once, not compiled yet; or graphql-jit could not compile it. */
const SEEN = "seen";
const NOT_COMPILABLE = "not-compilable";
type Entry = CompiledQuery | typeof SEEN | typeof NOT_COMPILABLE;

export class CompiledQueries {
  readonly #entries: LRUCache<string, Entry>;

  /** `maxDocuments`: distinct keys kept (compiled, seen once, or known not to compile). */
  constructor(
    private readonly schema: GraphQLSchema,
    maxDocuments = 200,
  ) {
    this.#entries = new LRUCache({ max: maxDocuments });
  }

  /**
   * The compiled query for `key` (which must name the document and the operation), counting
   * this as one execution; null when graphql-js is to execute it this time.
   */
  lookup(key: string, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
    const entry = this.#entries.get(key);
    if (entry === undefined) this.#entries.set(key, SEEN);
    else if (entry === SEEN) {
      const compiled = compile(this.schema, document, operationName);
      this.#entries.set(key, compiled ?? NOT_COMPILABLE);
      return compiled;
    }
    return entry === undefined || entry === NOT_COMPILABLE ? null : (entry as CompiledQuery);
  }

  clear(): void {
    this.#entries.clear();
  }
}

function compile(schema: GraphQLSchema, document: DocumentNode, operationName: string | null | undefined): CompiledQuery | null {
  try {
    const compiled = compileQuery(schema, document, operationName ?? undefined, {
      // Skip and include decided per path as graphql-js does, also through fragment spreads.
      useExperimentalPathBasedSkipInclude: true,
    });
    return isCompiledQuery(compiled) ? compiled : null;
  } catch {
    return null;
  }
}

/**
 * What graphql-js's `execute` would answer, from the compiled query: synchronous when every
 * resolver is. Null when graphql-jit refuses the variables: graphql-js must answer then, whose
 * messages and error nodes Apollo recognises (BAD_USER_INPUT) where graphql-jit words them
 * differently. Variables graphql-jit accepts are ones graphql-js accepts too (the differential
 * tests send the refusals both ways).
 */
export function executeCompiled(
  compiled: CompiledQuery,
  rootValue: unknown,
  contextValue: unknown,
  variables: Record<string, unknown> | null | undefined,
): ExecutionResult | Promise<ExecutionResult> | null {
  const result = compiled.query(rootValue, contextValue, variables);
  if (isPromise(result)) return result.then(asGraphqlJsResult);
  // Only a refusal of the variables has no `data` (an execution that fails has `data: null`).
  return "data" in result ? asGraphqlJsResult(result) : null;
}

function asGraphqlJsResult(result: ExecutionResult): ExecutionResult {
  return result.errors ? { ...result, errors: result.errors.map(asLocatedError) } : result;
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === "function";
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
  // A document parsed without locations (request-check.ts) has none: graphql-js leaves them out, graphql-jit says [].
  return Object.assign(located, { locations: locations?.length ? locations : undefined });
}
