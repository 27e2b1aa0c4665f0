/**
 * One GraphQL operation over any of the API's four ways in, with the real client of each
 * (fetch for HTTP, graphql-ws, subscriptions-transport-ws, graphql-sse), and its outcome in one
 * shape: the data of the first result, and the error codes, whether the transport said them
 * in a result, an HTTP status or a close code. A subscription's outcome is its first result
 * (or refusal); the operation is then ended.
 */
import { createClient as createWsClient } from "graphql-ws";
import { createClient as createSseClient } from "graphql-sse";
import { SubscriptionClient } from "subscriptions-transport-ws";
import WebSocket from "ws";

export const TRANSPORTS = ["http", "graphql-ws", "legacy", "sse"] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface Operation {
  query: string;
  variables?: Record<string, unknown>;
}

export interface Outcome {
  /** The first result's data (undefined when none came). */
  data: unknown;
  /** Every error's `extensions.code`, or the refusal's code (HTTP status / close code mapped back). */
  codes: string[];
  /** Error messages, for checking what they do not reveal. */
  messages: string[];
}

/** The contract's meaning of our close codes and refusal statuses. */
const CLOSE_CODES: Record<number, string> = { 4400: "BAD_REQUEST", 4403: "UNAUTHENTICATED", 4429: "RATE_LIMITED", 4500: "INTERNAL_SERVER_ERROR" };

const OUTCOME_TIMEOUT_MS = 15_000;

export function runOver(transport: Transport, httpUrl: string, token: string | null, operation: Operation): Promise<Outcome> {
  const run = { http: overHttp, "graphql-ws": overGraphqlWs, legacy: overLegacy, sse: overSse }[transport];
  return withTimeout(run(httpUrl, token, operation), `${transport}: no outcome for ${operation.query.slice(0, 60)}`);
}

async function overHttp(httpUrl: string, token: string | null, operation: Operation): Promise<Outcome> {
  const response = await fetch(`${httpUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(operation),
  });
  return fromResult((await response.json()) as Result);
}

function overGraphqlWs(httpUrl: string, token: string | null, operation: Operation): Promise<Outcome> {
  return new Promise((resolve) => {
    const client = createWsClient({
      url: httpUrl.replace(/^http/, "ws") + "/graphql",
      webSocketImpl: WebSocket,
      connectionParams: token ? { authorization: `Bearer ${token}` } : {},
      retryAttempts: 0,
      lazy: true,
    });
    const done = (outcome: Outcome) => {
      resolve(outcome);
      void client.dispose();
    };
    client.subscribe(operation, {
      next: (value) => done(fromResult(value as Result)),
      error: (error) => done(fromFailure(error)),
      complete: () => done({ data: undefined, codes: [], messages: [] }),
    });
  });
}

function overLegacy(httpUrl: string, token: string | null, operation: Operation): Promise<Outcome> {
  return new Promise((resolve) => {
    let closeCode: number | null = null;
    class RecordingWebSocket extends WebSocket {
      constructor(url: string, protocols: string[]) {
        super(url, protocols);
        this.on("close", (code) => {
          closeCode = code;
          done(fromClose(code));
        });
      }
    }
    const client = new SubscriptionClient(
      httpUrl.replace(/^http/, "ws") + "/graphql",
      { connectionParams: token ? { headers: { Authorization: `Bearer ${token}` } } : {}, reconnect: false, lazy: true },
      RecordingWebSocket,
      ["graphql-ws"],
    );
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
      if (closeCode === null) client.close();
    };
    client.request(operation).subscribe({
      next: (value) => done(fromResult(value as Result)),
      error: (error: unknown) => done(fromFailure(error)),
      complete: () => done({ data: undefined, codes: [], messages: [] }),
    });
  });
}

function overSse(httpUrl: string, token: string | null, operation: Operation): Promise<Outcome> {
  return new Promise((resolve) => {
    const client = createSseClient({ url: `${httpUrl}/graphql/stream`, headers: token ? { authorization: `Bearer ${token}` } : {}, retryAttempts: 0 });
    let settled = false;
    const done = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
      unsubscribe();
      client.dispose();
    };
    const unsubscribe = client.subscribe(operation, {
      next: (value) => done(fromResult(value as Result)),
      error: (error) => done(fromSseRefusal(error)),
      complete: () => done({ data: undefined, codes: [], messages: [] }),
    });
  });
}

interface Result {
  data?: unknown;
  errors?: Array<{ message: string; extensions?: { code?: string } }>;
}

function fromResult(result: Result): Outcome {
  const errors = result.errors ?? [];
  return { data: result.data, codes: errors.map((e) => e.extensions?.code ?? "NO_CODE"), messages: errors.map((e) => e.message) };
}

/** graphql-ws reports a close event, or the errors of an `error` message. */
function fromFailure(error: unknown): Outcome {
  if (Array.isArray(error)) return fromResult({ errors: error });
  const code = (error as { code?: unknown }).code;
  if (typeof code === "number") return fromClose(code);
  return { data: undefined, codes: ["CLIENT_ERROR"], messages: [String((error as Error).message ?? error)] };
}

function fromClose(code: number): Outcome {
  return { data: undefined, codes: [CLOSE_CODES[code] ?? `CLOSE_${code}`], messages: [] };
}

/** graphql-sse's client gives the refused Response's status (and has read no body). */
function fromSseRefusal(error: unknown): Outcome {
  const status = (error as { response?: { status?: number } }).response?.status;
  const codes: Record<number, string> = { 401: "UNAUTHENTICATED", 429: "RATE_LIMITED", 503: "INTERNAL_SERVER_ERROR" };
  if (status !== undefined) return { data: undefined, codes: [codes[status] ?? `STATUS_${status}`], messages: [] };
  return fromFailure(error);
}

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} within ${OUTCOME_TIMEOUT_MS} ms`)), OUTCOME_TIMEOUT_MS)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
