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
  /** Default `{ authorization: "Bearer <token>" }`. */
  connectionParams?: Record<string, unknown>,
): Collected<T> {
  let onClose!: (code: number) => void;
  const closed = new Promise<number>((resolve) => (onClose = resolve));
  const client = createClient({
    url: httpUrl.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: connectionParams ?? (token ? { authorization: `Bearer ${token}` } : {}),
    retryAttempts: 0,
    lazy: true,
    on: { closed: (event) => onClose((event as { code: number }).code) },
  });
  const { results, errors, notify, waitFor } = collector<T>();
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
    waitFor,
    dispose: async () => {
      await client.dispose();
    },
  };
}

/** What a subscription delivered so far, and a wait for the first `count` results. */
export function collector<T>() {
  const results: T[] = [];
  const errors: unknown[] = [];
  const waiters = new Set<() => void>();
  const notify = () => waiters.forEach((w) => w());
  const waitFor = (count: number, timeoutMs = 10_000) =>
    new Promise<T[]>((resolve, reject) => {
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
    });
  return { results, errors, notify, waitFor };
}

/**
 * Opens a graphql-ws connection with these connection params and resolves with
 * "connected" once acknowledged (then disconnects), or with the close code it got instead.
 */
export function connectOutcome(httpUrl: string, connectionParams: Record<string, unknown>): Promise<"connected" | number> {
  return new Promise((resolve) => {
    const client = createClient({
      url: httpUrl.replace(/^http/, "ws") + "/graphql",
      webSocketImpl: WebSocket,
      connectionParams,
      retryAttempts: 0,
      lazy: false,
      onNonLazyError: () => {},
      on: {
        connected: () => {
          resolve("connected");
          void client.dispose();
        },
        closed: (event) => resolve((event as { code: number }).code),
      },
    });
  });
}

/**
 * A raw `ws` client speaking graphql-transport-ws: sends connection_init with `payload` and
 * counts the pings the server sends. `autoPong: false` plays a peer that vanished.
 */
export function rawGraphqlSocket(httpUrl: string, payload: Record<string, unknown>, options: { autoPong?: boolean } = {}) {
  const socket = new WebSocket(httpUrl.replace(/^http/, "ws") + "/graphql", "graphql-transport-ws", { autoPong: options.autoPong ?? true });
  const state = { pings: 0, closeCode: null as number | null };
  socket.on("ping", () => state.pings++);
  const closed = new Promise<number>((resolve) =>
    socket.on("close", (code) => {
      state.closeCode = code;
      resolve(code);
    }),
  );
  const acknowledged = new Promise<void>((resolve, reject) => {
    socket.on("open", () => socket.send(JSON.stringify({ type: "connection_init", payload })));
    socket.on("message", (data) => {
      if (JSON.parse(String(data)).type === "connection_ack") resolve();
    });
    socket.on("error", reject);
    void closed.then((code) => reject(new Error(`closed ${code} before connection_ack`)));
  });
  return { socket, state, closed, acknowledged };
}
