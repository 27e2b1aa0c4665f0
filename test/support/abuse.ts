/**
 * Shared by the abuse suites: the documents that used to stall the event loop, and a way to
 * send requests to the API process while timing how long `/healthz` waits behind them.
 * Every request has its own deadline, so against a stalled server a test fails in seconds
 * instead of waiting for it.
 */
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";

/**
 * `query Q { ...F0 } fragment F0 on Query { ...F1 ...F1 } … fragment Fn on Query { <leaf> }`:
 * 2ⁿ paths through n+1 fragments. n=24 with `__typename` is 985 bytes.
 */
export function fragmentChain(n: number, options: { operation?: "query" | "subscription"; on?: string; leaf?: string } = {}): string {
  const { operation = "query", on = "Query", leaf = "__typename" } = options;
  let text = `${operation} Q { ...F0 }`;
  for (let i = 0; i < n; i++) text += ` fragment F${i} on ${on} { ...F${i + 1} ...F${i + 1} }`;
  return `${text} fragment F${n} on ${on} { ${leaf} }`;
}

export interface GraphqlAnswer {
  status: number;
  errors: Array<{ message: string; extensions?: { code?: string } }> | undefined;
  ms: number;
}

/** POST /graphql; an Origin header sends it through the Express route, none through the fast path. */
export async function postGraphql(url: string, body: unknown, headers: Record<string, string>, deadlineMs = 3000): Promise<GraphqlAnswer> {
  const started = performance.now();
  const response = await fetch(`${url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(deadlineMs),
  });
  const json = (await response.json()) as { errors?: GraphqlAnswer["errors"] };
  return { status: response.status, errors: json.errors, ms: performance.now() - started };
}

/** A graphql-ws client that has its connection_ack, for timing subscribes alone. */
export async function connectedClient(url: string, token: string, deadlineMs = 3000): Promise<Client> {
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const client = createClient({
    url: url.replace(/^http/, "ws") + "/graphql",
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    lazy: false,
    on: { connected: () => connected() },
  });
  await withDeadline(ready, deadlineMs, "connection_ack");
  return client;
}

/** Subscribes and resolves with the errors the server answered with; rejects when it accepted. */
export function refusedSubscription(client: Client, payload: { query: string; variables?: Record<string, unknown> }, deadlineMs = 3000) {
  const started = performance.now();
  let stop = () => {};
  const answer = new Promise<{ errors: GraphqlAnswer["errors"]; ms: number }>((resolve, reject) => {
    stop = client.subscribe(payload, {
      next: () => reject(new Error("the subscription was accepted")),
      error: (errors) => resolve({ errors: errors as GraphqlAnswer["errors"], ms: performance.now() - started }),
      complete: () => reject(new Error("the subscription completed without an error")),
    });
  });
  return withDeadline(answer, deadlineMs, "the subscription's answer").finally(() => stop());
}

/**
 * Runs `attack` while polling GET /healthz every few milliseconds (each poll with its own
 * deadline); returns the attack's result and the slowest /healthz answer.
 */
export async function whileHealthzPolled<T>(url: string, attack: () => Promise<T>, deadlineMs = 2000): Promise<{ result: T; slowestHealthzMs: number }> {
  let running = true;
  let slowest = 0;
  const poll = (async () => {
    while (running) {
      const started = performance.now();
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(deadlineMs) });
        await response.arrayBuffer();
        slowest = Math.max(slowest, performance.now() - started);
      } catch {
        slowest = Math.max(slowest, performance.now() - started);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  let result: T;
  try {
    result = await attack();
  } finally {
    running = false;
    await poll;
  }
  return { result, slowestHealthzMs: slowest };
}

/**
 * `rounds` sends one after another, then `parallel` at once, all while /healthz is polled.
 * `fastestMs` is the quickest of the sequential sends: scheduling on a busy machine only
 * ever adds to a time, so the fastest round is what the server itself took.
 */
export async function attack<T extends { ms: number }>(url: string, send: () => Promise<T>, rounds: number, parallel: number) {
  const { result, slowestHealthzMs } = await whileHealthzPolled(url, async () => {
    const answers: T[] = [];
    for (let i = 0; i < rounds; i++) answers.push(await send());
    answers.push(...(await Promise.all(Array.from({ length: parallel }, send))));
    return answers;
  });
  return { answers: result, fastestMs: Math.min(...result.slice(0, rounds).map((a) => a.ms)), slowestHealthzMs };
}

/**
 * Runs a timed scenario up to `attempts` times and returns the first run that `passes` (else
 * the last): a load spike from elsewhere on the machine fails one run, a server that stalls
 * fails them all (and its deadlines throw at once, with no retry).
 */
export async function firstPassing<T>(attempts: number, run: () => Promise<T>, passes: (result: T) => boolean): Promise<T> {
  let result = await run();
  for (let i = 1; i < attempts && !passes(result); i++) result = await run();
  return result;
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms)));
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}
