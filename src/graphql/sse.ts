/**
 * GraphQL subscriptions over Server-Sent Events on /graphql/stream, for networks that break
 * WebSockets: graphql-sse's handler in its "distinct connections" mode (one POST, or GET, per
 * subscription with `Accept: text/event-stream`), on the same schema, request check, context
 * and subscription services as graphql-ws.
 *
 * - `Authorization: Bearer …` as on POST /graphql. Without a valid token: 401, or 429 once the
 *   client IP spent its anonymous budget (shared with HTTP and WebSocket); more than
 *   `maxStreamsPerUser` open streams: 429.
 * - Subscriptions only (queries and mutations go to /graphql, through Apollo's audit and
 *   limits). A refused document is answered in the stream: one `next` with `errors`, then
 *   `complete`.
 * - Each event carries `id: <event id>` when its selection has the event's `id`; a request's
 *   `Last-Event-ID` resumes after that id, ahead of the `after` variable.
 * - The token's expiry ends the stream: one `next` with an UNAUTHENTICATED error, `complete`.
 * - Keep-alive: graphql-sse itself writes a `:` comment every 12 s on every stream.
 * - Single connection mode is off: its stream reservations live in one process's memory, so
 *   behind a load balancer its PUT and GET would meet on different instances.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { getOperationAST, GraphQLError, type ExecutionResult, type GraphQLSchema } from "graphql";
import { createHandler, print, type ExecutionResult as SseResult, type OperationArgs, type Request, type RequestParams, type Response } from "graphql-sse";
import { authenticate, type Authentication } from "../auth/authenticate.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import { readBody } from "../http/kit.js";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { WriteBatch } from "./batched-writes.js";
import { createContext } from "./context.js";
import { formatExecutionResult } from "./request-check.js";
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
  auth: Extract<Authentication, { viewer: object }> | null;
  /** The event ids of `next` results, in the order graphql-sse writes them. */
  eventIds: (string | null)[];
}

type OperationContext = Record<PropertyKey, unknown>;
type SseRequest = Request<IncomingMessage, StreamContext>;

export interface SseOptions {
  schema: GraphQLSchema;
  services: Services;
  verifyToken: TokenVerifier;
  sse: SseLimits;
  /** The request check and event execution every subscription transport shares. */
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
    onNext: (_ctx, req, result) => {
      req.context.eventIds.push(eventIdOf(result));
      return format(result as ExecutionResult);
    },
  });
  return {
    handle: (req, res) => serveStream(handler, open, req, res, slowConsumer),
    openStreams: () => open.size,
    dispose: async () => {
      for (const res of open) res.end();
    },
  };
}

/** Authenticates and reserves a stream for the user until the response closes; null admits. */
function streamAdmission(options: SseOptions) {
  const streamsPerUser = new Map<string, number>();
  return async (req: SseRequest): Promise<Response | null> => {
    const auth = await authenticate(req.headers.get("authorization"), options.verifyToken, options.services.findViewer);
    if (!auth.viewer) {
      // A failing store fails open here: the request is refused (401) either way.
      const decision = await options.services.rateLimits.anonymous(options.clientIp(req.raw)).catch(() => ({ allowed: true, retryAfterSeconds: 1 }));
      if (!decision.allowed) return refusal(429, "RATE_LIMITED", "Too many requests", { "retry-after": String(decision.retryAfterSeconds) });
      return refusal(401, "UNAUTHENTICATED", auth.error.message, { "www-authenticate": "Bearer" });
    }
    const userId = auth.viewer.userId;
    const count = streamsPerUser.get(userId) ?? 0;
    if (count >= options.sse.maxStreamsPerUser) return refusal(429, "RATE_LIMITED", "Too many streams");
    streamsPerUser.set(userId, count + 1);
    req.context.res.once("close", () => release(streamsPerUser, userId));
    req.context.auth = auth;
    return null;
  };
}

/** The same request check as every transport; only subscriptions are served here. */
function operationPreparer(options: SseOptions) {
  const { checkRequest } = options.subscriptions;
  return (req: SseRequest, params: RequestParams): OperationArgs<OperationContext> | AsyncIterable<ExecutionResult> => {
    const variables = params.variables ?? {};
    const document = checkRequest(options.schema, params.query, params.operationName, variables);
    if (Array.isArray(document)) return resultOnce({ errors: document });
    if (getOperationAST(document, params.operationName)?.operation !== "subscription") {
      return resultOnce({ errors: [new GraphQLError("Only subscriptions are served here; send queries and mutations to /graphql", { extensions: { code: "BAD_REQUEST" } })] });
    }
    const contextValue = createContext({
      requestId: req.context.requestId,
      clientIp: options.clientIp(req.raw),
      auth: req.context.auth!,
      services: options.services,
      lastEventId: req.headers.get("last-event-id") ?? null,
    });
    return { schema: options.schema, document, operationName: params.operationName ?? null, variableValues: variables, contextValue: contextValue as unknown as OperationContext };
  };
}

/** Hands one HTTP request to graphql-sse's handler and writes what it answers. */
async function serveStream(
  handler: ReturnType<typeof createHandler<IncomingMessage, StreamContext, OperationContext>>,
  open: Set<ServerResponse>,
  req: IncomingMessage,
  res: ServerResponse,
  slowConsumer: SlowConsumerCheck,
): Promise<void> {
  const context: StreamContext = { requestId: randomUUID(), res, auth: null, eventIds: [] };
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

function refusal(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  return [body, { status, statusText: status === 401 ? "Unauthorized" : "Too Many Requests", headers: { ...headers, "content-type": "application/json; charset=utf-8" } }];
}

function release(counts: Map<string, number>, userId: string): void {
  const left = (counts.get(userId) ?? 1) - 1;
  if (left > 0) counts.set(userId, left);
  else counts.delete(userId);
}

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
