/**
 * graphql's `subscribe()` for fan-out: an event that reaches many subscriptions is executed
 * once per distinct (document, operation name, variables, resolution key) and that one result
 * is handed to every subscription sharing the tuple, instead of once per socket. The
 * resolution key must cover everything the resolvers read from the context that can differ
 * between subscribers (see `resolutionKey` in context.ts): two viewers with different rights
 * never share a result. Events must be objects shared between subscribers (the hub hands the
 * same prepared event to all of them) for anything to be shared; a fresh object per
 * subscriber is simply executed for each, as graphql does.
 *
 * Executing an event is graphql-js's `execute` with the event as root value (what `subscribe()`
 * does), or the same operation compiled by graphql-jit (compiled-queries.ts: compiled on its
 * second execution, with graphql-js's results and errors), as GRAPHQL_JIT says. The source
 * stream (the subscribe resolver, the variables' coercion and its errors) stays graphql-js's.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from "graphql";
import type { Metrics } from "../kit/metrics.js";
import { CompiledQueries, executeCompiled, type ExecutorKind } from "./compiled-queries.js";

type Result = ExecutionResult | Promise<ExecutionResult>;

export type SharedSubscribe = (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult>;

export interface EventExecution {
  /** graphql-jit's compiled queries (GRAPHQL_JIT); without them graphql-js executes every event. */
  compiled?: CompiledQueries;
  /** Once per event execution (a result shared by many subscriptions is one). */
  onExecute?: (kind: ExecutorKind) => void;
}

/** Events executed by compiled queries unless `compiledExecution` is false, counted in `metrics`. */
export function eventExecution(schema: GraphQLSchema, compiledExecution: boolean | undefined, metrics: Metrics): EventExecution {
  const counters = { compiled: metrics.graphqlEventExecutions.labels("compiled"), "graphql-js": metrics.graphqlEventExecutions.labels("graphql-js") };
  return { compiled: compiledExecution === false ? undefined : new CompiledQueries(schema), onExecute: (kind) => counters[kind].inc() };
}

export function sharedSubscribe(resolutionKey: (contextValue: unknown) => string, execution: EventExecution = {}): SharedSubscribe {
  const documentIds = new WeakMap<DocumentNode, number>();
  let documents = 0;
  /** Per event: its results by execution key; gone with the event. */
  const results = new WeakMap<object, Map<string, Result>>();
  const documentIdOf = (document: DocumentNode): number => {
    let documentId = documentIds.get(document);
    if (documentId === undefined) documentIds.set(document, (documentId = ++documents));
    return documentId;
  };
  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const documentId = documentIdOf(args.document);
    const key = JSON.stringify([documentId, args.operationName ?? null, args.variableValues ?? null, resolutionKey(args.contextValue)]);
    const executeEvent = eventExecutor(args, `${documentId} ${args.operationName ?? ""}`, execution);
    return mapEvents(stream, (event: unknown) => {
      if (typeof event !== "object" || event === null) return executeEvent(event);
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = executeEvent(event)));
      return result;
    });
  };
}

/**
 * What graphql's `subscribe()` does with each event (execute the operation with the event as
 * root value), by the compiled query once there is one: `compiledKey` names the document and
 * operation in the compiled queries, which count each execution (compiled on the second).
 */
function eventExecutor(args: ExecutionArgs, compiledKey: string, { compiled, onExecute }: EventExecution): (rootValue: unknown) => Result {
  return (rootValue) => {
    const query = compiled?.lookup(compiledKey, args.document, args.operationName);
    const result = query ? executeCompiled(query, rootValue, args.contextValue, args.variableValues) : null;
    onExecute?.(result ? "compiled" : "graphql-js");
    return result ?? execute({ ...args, rootValue });
  };
}

/**
 * graphql's own `mapAsyncIterator` (what its `subscribe()` returns) with fewer promise hops per
 * event: it awaits even a synchronous result and returns a promise from an async function (two
 * more turns), where this waits only for the source and for a result still pending. Like it,
 * and unlike an async generator, `return()` reaches the source at once, even while it waits
 * for the next event. Kept here because graphql's is internal and takes the hops.
 */
function mapEvents(source: AsyncIterable<unknown>, map: (event: unknown) => Result): AsyncGenerator<ExecutionResult, void, void> {
  const iterator = source[Symbol.asyncIterator]();
  const close = async () => {
    await iterator.return?.()?.catch(() => {});
  };
  const mapped = {
    async next(): Promise<IteratorResult<ExecutionResult, void>> {
      const step = await iterator.next();
      if (step.done) return { value: undefined, done: true };
      try {
        const result = map(step.value);
        return { value: isPromiseLike(result) ? await result : result, done: false };
      } catch (error) {
        await close();
        throw error;
      }
    },
    async return(): Promise<IteratorResult<ExecutionResult, void>> {
      await iterator.return?.();
      return { value: undefined, done: true };
    },
    async throw(error: unknown): Promise<IteratorResult<ExecutionResult, void>> {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped as AsyncGenerator<ExecutionResult, void, void>;
}

/** Formats each result once however many subscriptions send it (results are shared, see above). */
export function formatOnce<R>(format: (result: ExecutionResult) => R): (result: ExecutionResult) => R {
  const formatted = new WeakMap<ExecutionResult, R>();
  return (result) => {
    let done = formatted.get(result);
    if (done === undefined) formatted.set(result, (done = format(result)));
    return done;
  };
}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T>)?.then === "function";
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === "function";
}
