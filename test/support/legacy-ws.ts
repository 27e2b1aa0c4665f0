/**
 * The real subscriptions-transport-ws client (the legacy Apollo protocol graphql_flutter and
 * ferry speak by default) on loopback, collecting what a subscription delivers, with the
 * same shape as ws.ts's graphql-ws collector.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print } from "graphql";
import { SubscriptionClient } from "subscriptions-transport-ws";
import WebSocket from "ws";
import { collector, type Collected } from "./ws.js";

export interface LegacyOptions {
  /** What `connection_init` carries; default graphql_flutter's `{ headers: { Authorization } }`. */
  connectionParams?: Record<string, unknown>;
  /** Sub-protocols offered; [] is ferry's WebSocketLink, which offers none. Default ["graphql-ws"]. */
  protocols?: string[];
}

export type LegacyCollected<T> = Omit<Collected<T>, "client"> & {
  client: SubscriptionClient;
  /** Starts one more operation on the same socket; errors go to `errors`. */
  start(query: string): () => void;
};

export function subscribeLegacy<T, V extends Record<string, unknown>>(
  httpUrl: string,
  token: string | null,
  document: TypedDocumentNode<T, V> | null,
  variables: V,
  options: LegacyOptions = {},
): LegacyCollected<T> {
  let onClose!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClose = resolve));
  // The client hides the close code; a WebSocket subclass reads it.
  class RecordingWebSocket extends WebSocket {
    constructor(url: string, protocols: string[]) {
      super(url, protocols);
      this.on("close", (code) => onClose(code));
    }
  }
  const client = new SubscriptionClient(
    httpUrl.replace(/^http/, "ws") + "/graphql",
    { connectionParams: options.connectionParams ?? (token ? { headers: { Authorization: `Bearer ${token}` } } : {}), reconnect: false, lazy: true },
    RecordingWebSocket,
    options.protocols ?? ["graphql-ws"],
  );
  const c = collector<T>();
  const start = (query: string, vars?: Record<string, unknown>) => {
    const { unsubscribe } = client.request({ query, variables: vars }).subscribe({
      next: (value) => {
        if (value.errors) c.errors.push(...value.errors);
        if (value.data) c.results.push(value.data as T);
        c.notify();
      },
      error: (error) => {
        c.errors.push(error);
        c.notify();
      },
      complete: c.notify,
    });
    return unsubscribe;
  };
  if (document) start(print(document), variables);
  return {
    ...c,
    closed,
    client,
    start: (query) => start(query),
    dispose: async () => client.close(),
  };
}
