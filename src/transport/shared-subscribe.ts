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
    return new SharedEvents(stream[Symbol.asyncIterator](), { args, key, compiledKey: `${documentId} ${args.operationName ?? ""}`, results, execution });
  };
}

/** What one subscription's events are executed with. */
interface EventSource {
  args: ExecutionArgs;
  /** The subscription's execution key: subscriptions with equal keys share an event's result. */
  key: string;
  /** Names the document and operation in the compiled queries, which count each execution (compiled on the second). */
  compiledKey: string;
  /** Per event: its results by execution key (one map for every subscription). */
  results: WeakMap<object, Map<string, Result>>;
  execution: EventExecution;
}

/**
 * One subscription's events mapped to results: graphql's own `mapAsyncIterator` (what its
 * `subscribe()` returns) with fewer promise hops per event: it awaits even a synchronous
 * result and returns a promise from an async function (two more turns), where this waits only
 * for the source and for a result still pending. Like it, and unlike an async generator,
 * `return()` reaches the source at once, even while it waits for the next event. Kept here
 * because graphql's is internal and takes the hops.
 *
 * A class with its methods on the prototype, and `next` a promise chain rather than an async
 * function: an idle subscription waits in `next` for as long as its socket is open, and holds
 * this one object and a pending reaction there, not a set of closures and a suspended frame.
 */
class SharedEvents {
  constructor(
    private readonly iterator: AsyncIterator<unknown>,
    private readonly source: EventSource,
  ) {}

  next(): Promise<IteratorResult<ExecutionResult, void>> {
    return this.iterator.next().then((step) => (step.done ? DONE : this.#result(step.value)));
  }

  async return(): Promise<IteratorResult<ExecutionResult, void>> {
    await this.iterator.return?.();
    return DONE;
  }

  async throw(error: unknown): Promise<IteratorResult<ExecutionResult, void>> {
    await this.#close();
    throw error;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** The event's result, or the promise of it while pending; a failure closes the source first. */
  #result(event: unknown): IteratorResult<ExecutionResult, void> | Promise<IteratorResult<ExecutionResult, void>> {
    let result: Result;
    try {
      result = this.#map(event);
    } catch (error) {
      return this.#close().then(() => Promise.reject(error));
    }
    return isPromiseLike(result) ? this.#settle(result) : { value: result, done: false };
  }

  async #settle(result: Promise<ExecutionResult>): Promise<IteratorResult<ExecutionResult, void>> {
    try {
      return { value: await result, done: false };
    } catch (error) {
      await this.#close();
      throw error;
    }
  }

  async #close(): Promise<void> {
    await this.iterator.return?.()?.catch(() => {});
  }

  /** The event's result for this subscription, shared with every subscription of the same key. */
  #map(event: unknown): Result {
    const { results, key } = this.source;
    if (typeof event !== "object" || event === null) return this.#execute(event);
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    let result = byKey.get(key);
    if (!result) byKey.set(key, (result = this.#execute(event)));
    return result;
  }

  /**
   * What graphql's `subscribe()` does with each event (execute the operation with the event as
   * root value), by the compiled query once there is one.
   */
  #execute(rootValue: unknown): Result {
    const { args, compiledKey, execution } = this.source;
    const query = execution.compiled?.lookup(compiledKey, args.document, args.operationName);
    const result = query ? executeCompiled(query, rootValue, args.contextValue, args.variableValues) : null;
    execution.onExecute?.(result ? "compiled" : "graphql-js");
    return result ?? execute({ ...args, rootValue });
  }
}

const DONE: IteratorReturnResult<void> = { value: undefined, done: true };

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
