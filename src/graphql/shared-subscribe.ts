/**
 * graphql's `subscribe()` for fan-out: an event that reaches many subscriptions is executed
 * once per distinct (document, operation name, variables, resolution key) and that one result
 * is handed to every subscription sharing the tuple, instead of once per socket. The
 * resolution key must cover everything the resolvers read from the context that can differ
 * between subscribers (see `resolutionKey` in context.ts): two viewers with different rights
 * never share a result. Events must be objects shared between subscribers (the hub hands the
 * same prepared event to all of them) for anything to be shared; a fresh object per
 * subscriber is simply executed for each, as graphql does.
 */
import { createSourceEventStream, execute, type DocumentNode, type ExecutionArgs, type ExecutionResult } from "graphql";
// graphql's own mapper (as its `subscribe()` uses): unlike an async generator, its return()
// reaches the source at once, even while it waits for the next event.
import { mapAsyncIterator } from "graphql/execution/mapAsyncIterator.js";

type Result = ExecutionResult | Promise<ExecutionResult>;

export type SharedSubscribe = (args: ExecutionArgs) => Promise<AsyncGenerator<ExecutionResult, void, void> | ExecutionResult>;

export function sharedSubscribe(resolutionKey: (contextValue: unknown) => string): SharedSubscribe {
  const documentIds = new WeakMap<DocumentNode, number>();
  let documents = 0;
  /** Per event: its results by execution key; gone with the event. */
  const results = new WeakMap<object, Map<string, Result>>();
  const keyOf = (args: ExecutionArgs): string => {
    let documentId = documentIds.get(args.document);
    if (documentId === undefined) documentIds.set(args.document, (documentId = ++documents));
    return JSON.stringify([documentId, args.operationName ?? null, args.variableValues ?? null, resolutionKey(args.contextValue)]);
  };
  return async (args) => {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) return stream;
    const key = keyOf(args);
    return mapAsyncIterator(stream, (event: unknown) => {
      if (typeof event !== "object" || event === null) return execute({ ...args, rootValue: event });
      let byKey = results.get(event);
      if (!byKey) results.set(event, (byKey = new Map()));
      let result = byKey.get(key);
      if (!result) byKey.set(key, (result = execute({ ...args, rootValue: event })));
      return result;
    });
  };
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

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof (value as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === "function";
}
