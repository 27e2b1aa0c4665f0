/**
 * GraphQL over Server-Sent Events on /graphql/stream, for networks that break WebSockets:
 * graphql-sse's handler in its "distinct connections" mode (one POST, or GET, per operation
 * with `Accept: text/event-stream`), as an adapter of the request pipeline
 * (request-pipeline.ts), which decides who may do what; this file owns the framing.
 *
 * - `Authorization: Bearer …` as on POST /graphql. Refusals are plain HTTP answers with the
 *   pipeline's code: 401 without a valid token, 429 past the anonymous budget (shared with
 *   HTTP and WebSocket), past the refused-attempts budget or with `maxStreamsPerUser` streams
 *   open, 503 on a fault of ours.
 * - Subscriptions, and queries and mutations too (one `next`, then `complete`), with the same
 *   checks and the same read audit as HTTP. A refused document is answered in the stream: one
 *   `next` with `errors`, then `complete`.
 * - Each event carries `id: <event id>` when its selection has the event's `id`; a request's
 *   `Last-Event-ID` resumes after that id, ahead of the `after` variable.
 * - The token's expiry ends the stream: one `next` with an UNAUTHENTICATED error, `complete`.
 * - Keep-alive: graphql-sse itself writes a `:` comment every 12 s on every stream.
 * - Single connection mode is off: its stream reservations live in one process's memory, so
 *   behind a load balancer its PUT and GET would meet on different instances.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ExecutionResult, GraphQLError, GraphQLSchema } from "graphql";
import { createHandler, print, type ExecutionResult as SseResult, type OperationArgs, type Request, type RequestParams, type Response } from "graphql-sse";
import type { Authentication } from "../auth/authenticate.js";
import { readBody } from "../http/kit.js";
import type { Logger } from "../kit/logger.js";
import type { Services } from "../app/services.js";
import { WriteBatch } from "./batched-writes.js";
import type { GraphQLContext } from "../graphql/context.js";
import { formatExecutionResult } from "./request-check.js";
import { refusal, refusalStatus, type Connection, type RequestPipeline } from "./request-pipeline.js";
import { formatOnce } from "./shared-subscribe.js";
import type { SubscriptionExecution } from "./subscription-execution.js";
import { slowConsumerCheck, type SlowConsumerCheck } from "./slow-consumer.js";

export const SSE_PATH = "/graphql/stream";
const MAX_BODY_BYTES = 100 * 1024;

export interface SseLimits {
  maxStreamsPerUser: number;
  /**
   * graphql-sse queues a stream's messages without waiting for the socket; a client that stops
   * reading would make them pile up for ever. With more than this many bytes unsent, the
   * response is destroyed before the next write (no `complete`): graphql-sse's client and
   * EventSource see a network error, reconnect and resume from the log (Last-Event-ID).
   */
  maxBufferedBytes: number;
}

export interface GraphqlSse {
  /** Answers a request to SSE_PATH (CORS already applied). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  openStreams(): number;
  /** Ends every open stream without `complete`, so clients reconnect (to another instance). */
  dispose(): Promise<void>;
}

interface StreamContext {
  requestId: string;
  res: ServerResponse;
  /** The stream's hold on its user's slot, released when the response closes. */
  connection: Connection;
  auth: Extract<Authentication, { viewer: object }> | null;
  /** The event ids of `next` results, in the order graphql-sse writes them. */
  eventIds: (string | null)[];
}

type OperationContext = Record<PropertyKey, unknown>;
type SseRequest = Request<IncomingMessage, StreamContext>;

export interface SseOptions {
  schema: GraphQLSchema;
  services: Services;
  pipeline: RequestPipeline;
  sse: SseLimits;
  /** The event execution every subscription transport shares. */
  subscriptions: SubscriptionExecution;
  isProduction: boolean;
  logger: Logger;
  clientIp: (request: IncomingMessage) => string | null;
}

export function createGraphqlSse(options: SseOptions): GraphqlSse {
  const open = new Set<ServerResponse>();
  const slowConsumer = slowConsumerCheck(options.sse.maxBufferedBytes, options.services.metrics, options.logger);
  const format = formatOnce((result) => formatExecutionResult(result, options.isProduction) as unknown as SseResult);
  const handler = createHandler<IncomingMessage, StreamContext, OperationContext>({
    authenticate: streamAdmission(options),
    onSubscribe: operationPreparer(options),
    subscribe: options.subscriptions.subscribe,
    execute: options.subscriptions.execute,
    // A query's or mutation's result (a subscription's is a stream): audit what it read.
    onOperation: (ctx, _req, _args, result) => {
      if (!(Symbol.asyncIterator in result)) options.pipeline.finish(ctx as unknown as GraphQLContext);
    },
    onNext: (_ctx, req, result) => {
      req.context.eventIds.push(eventIdOf(result));
      return format(result as ExecutionResult);
    },
  });
  return {
    handle: (req, res) => serveStream(handler, open, req, res, slowConsumer, options.pipeline.connection("stream")),
    openStreams: () => open.size,
    dispose: async () => {
      for (const res of open) res.end();
    },
  };
}

/** Identifies the caller and holds one of the user's stream slots until the response closes; null admits. */
function streamAdmission(options: SseOptions) {
  return async (req: SseRequest): Promise<Response | null> => {
    let auth: Authentication;
    try {
      auth = await options.pipeline.identify({ authorization: req.headers.get("authorization"), clientIp: options.clientIp(req.raw) });
    } catch (error) {
      return refusalResponse(error as GraphQLError);
    }
    if (!auth.viewer) return refusalResponse(refusal("UNAUTHENTICATED", auth.error.message), { "www-authenticate": "Bearer" });
    const held = req.context.connection.hold(auth.viewer.userId);
    if (held !== "held") return refusalResponse(refusal("RATE_LIMITED", held === "full" ? "Too many streams" : "Client gone"));
    req.context.auth = auth;
    return null;
  };
}

/** The pipeline's check of the operation, with the caller identified at admission. */
function operationPreparer(options: SseOptions) {
  return async (req: SseRequest, params: RequestParams): Promise<OperationArgs<OperationContext> | AsyncIterable<ExecutionResult> | Response> => {
    const facts = { authorization: null, clientIp: options.clientIp(req.raw), requestId: req.context.requestId, lastEventId: req.headers.get("last-event-id") ?? null };
    try {
      const prepared = await options.pipeline.prepare(facts, params, req.context.auth!);
      if (Array.isArray(prepared)) return resultOnce({ errors: prepared as GraphQLError[] });
      return prepared as OperationArgs<OperationContext>;
    } catch (error) {
      return refusalResponse(error as GraphQLError);
    }
  };
}

/** Hands one HTTP request to graphql-sse's handler and writes what it answers. */
async function serveStream(
  handler: ReturnType<typeof createHandler<IncomingMessage, StreamContext, OperationContext>>,
  open: Set<ServerResponse>,
  req: IncomingMessage,
  res: ServerResponse,
  slowConsumer: SlowConsumerCheck,
  connection: Connection,
): Promise<void> {
  // Before anything is awaited: a client gone at any later moment frees the slot.
  res.once("close", () => connection.close());
  if (req.destroyed || res.destroyed) connection.close();
  const context: StreamContext = { requestId: randomUUID(), res, connection, auth: null, eventIds: [] };
  res.setHeader("x-request-id", context.requestId);
  // nginx and proxies that honour it pass events on at once instead of buffering the stream.
  res.setHeader("x-accel-buffering", "no");
  const [body, init] = await handler({
    method: req.method ?? "GET",
    url: req.url ?? "/",
    headers: { get: (key) => [req.headers[key] ?? null].flat().join(", ") || null },
    body: () => readJson(req),
    raw: req,
    context,
  });
  res.writeHead(init.status, init.headers);
  if (!body || typeof body === "string") {
    res.end(body ?? undefined);
    return;
  }
  open.add(res);
  try {
    await pipeStream(body, res, context, slowConsumer);
  } finally {
    open.delete(res);
  }
}

/** Writes the stream's messages, with event ids, until it ends, the client goes or the token expires. */
async function pipeStream(body: AsyncGenerator<string, void>, res: ServerResponse, context: StreamContext, slowConsumer: SlowConsumerCheck): Promise<void> {
  const expiresIn = (context.auth?.expiresAt.getTime() ?? Infinity) - Date.now();
  const expiry = setTimeout(() => endExpired(res), Math.max(0, Math.min(expiresIn, 2 ** 31 - 1)));
  const stop = () => void body.return();
  const batch = new WriteBatch(res, () => res.writableLength);
  res.once("close", stop);
  // Gone while the operation was being prepared: its close event has passed already.
  if (context.connection.closed) stop();
  try {
    for await (const message of body) {
      if (!res.writable) break;
      if (slowConsumer("sse", batch)) {
        res.destroy();
        break;
      }
      const id = message.startsWith("event: next") ? context.eventIds.shift() : null;
      batch.hold();
      res.write(id ? `id: ${id}\n${message}` : message);
    }
  } finally {
    clearTimeout(expiry);
    res.off("close", stop);
    res.end();
  }
}

function endExpired(res: ServerResponse): void {
  if (!res.writable) return;
  const expired = { errors: [{ message: "Token expired", extensions: { code: "UNAUTHENTICATED" } }] } as unknown as SseResult;
  res.write(print({ event: "next", data: expired }));
  res.end(print({ event: "complete", data: null }));
}

async function readJson(req: IncomingMessage): Promise<string> {
  const result = await readBody(req, MAX_BODY_BYTES);
  if (!result.ok) throw new Error(result.status === 413 ? "Request body too large" : "Request body unreadable");
  return result.body.toString("utf8");
}

/** A refusal as graphql-sse answers one: a JSON body with the error and its code, the pipeline's status. */
function refusalResponse(error: GraphQLError, headers: Record<string, string> = {}): Response {
  const { code, retryAfterSeconds } = error.extensions as { code: string; retryAfterSeconds?: number };
  const extensions = retryAfterSeconds === undefined ? { code } : { code, retryAfterSeconds };
  const retry: Record<string, string> = retryAfterSeconds === undefined ? {} : { "retry-after": String(retryAfterSeconds) };
  const status = refusalStatus(error);
  const body = JSON.stringify({ errors: [{ message: error.message, extensions }] });
  return [body, { status, statusText: STATUS_TEXT[status] ?? "Error", headers: { ...headers, ...retry, "content-type": "application/json; charset=utf-8" } }];
}

const STATUS_TEXT: Record<number, string> = { 401: "Unauthorized", 429: "Too Many Requests", 503: "Service Unavailable" };

async function* resultOnce(result: ExecutionResult): AsyncGenerator<ExecutionResult> {
  yield result;
}

/** The id of the event a result carries (`{ <field>: { id } }`), if its selection has one. */
function eventIdOf(result: SseResult | object): string | null {
  const data = (result as ExecutionResult).data;
  const root = data ? Object.values(data)[0] : null;
  const id = root && typeof root === "object" ? (root as { id?: unknown }).id : null;
  return typeof id === "string" ? id : null;
}
