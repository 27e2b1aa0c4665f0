/** A real graphql-ws client on loopback that collects what a subscription delivers. */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

export interface Collected<T> {
  results: T[];
  errors: unknown[];
  /** Resolves with the close code when the socket closes. */
  closed: Promise<number>;
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
  dispose(): Promise<void>;
  client: Client;
}

export function subscribe<T, V extends Record<string, unknown>>(
  httpUrl: string,
  token: string | null,
  document: TypedDocumentNode<T, V>,
  variables: V,
): Collected<T> {
  let onClose!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClose = resolve));
  const client = createClient({
    url: httpUrl.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => onClose((event as { code: number }).code) },
  });
  const results: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  client.subscribe<T>(
    { query: print(document), variables },
    {
      next: (value) => {
        if (value.errors) errors.push(...value.errors);
        if (value.data) results.push(value.data as T);
        notify();
      },
      error: (error) => {
        errors.push(error);
        notify();
      },
      complete: notify,
    },
  );
  return {
    results,
    errors,
    closed,
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
    dispose: async () => {
      await client.dispose();
    },
  };
}
