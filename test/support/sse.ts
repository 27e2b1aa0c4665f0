/** A real graphql-sse client (distinct connections mode) on loopback that collects what a subscription delivers. */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client, type ClientOptions } from "graphql-sse";

export interface SseCollected<T> {
  results: T[];
  errors: unknown[];
  /** Resolves once the subscription ended: "complete", or the error the client reported. */
  ended: Promise<"complete" | unknown>;
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  dispose(): void;
  client: Client;
}

export function subscribeSse<T, V extends Record<string, unknown>>(
  httpUrl: string,
  token: string | null,
  document: TypedDocumentNode<T, V> | string,
  variables: V,
  options: Partial<ClientOptions> & { extraHeaders?: Record<string, string> } = {},
): SseCollected<T> {
  const { extraHeaders, ...clientOptions } = options;
  const client = createClient({
    url: `${httpUrl}/graphql/stream`,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...extraHeaders },
    retryAttempts: 0,
    ...clientOptions,
  });
  const results: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  let onEnd!: (outcome: unknown) => void;
  const ended = new Promise<unknown>((resolve) => (onEnd = resolve));
  const unsubscribe = client.subscribe<T>(
    { query: typeof document === "string" ? document : print(document), variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) results.push(value.data as T);
        notify();
      },
      error: (error) => {
        errors.push(error);
        onEnd(error);
        notify();
      },
      complete: () => {
        onEnd("complete");
        notify();
      },
    },
  );
  return {
    results,
    errors,
    ended,
    client,
    waitFor: (count, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (results.length >= count) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(results.slice(0, count));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`got ${results.length} of ${count} results; errors: ${JSON.stringify(errors)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    dispose: () => {
      unsubscribe();
      client.dispose();
    },
  };
}

/** The HTTP status of a refused SSE request, as graphql-sse's client reports it (NetworkError). */
export function refusedStatus(error: unknown): number | undefined {
  return (error as { response?: { status?: number } }).response?.status;
}
