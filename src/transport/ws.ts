/**
 * GraphQL over WebSocket (graphql-ws's protocol, and the legacy one through legacy-ws.ts) on
 * /graphql: the adapter between graphql-ws's `makeServer` hooks and the request pipeline
 * (request-pipeline.ts), which decides everything else. The bearer token travels in
 * `connection_init` (`connectionParams: { authorization: "Bearer …" }`, or the other spellings
 * `authorizationFromPayload` reads). What this file owns is how a refusal closes the socket
 * (`refusalCloseCode`: 4403 no valid token, 4429 over a budget or slot cap, 4500 our fault), the
 * per-socket subscription cap, the token-expiry close (4403), and one copy of each query text
 * however many subscriptions keep it. Every operation (queries and
 * mutations too, which Apollo Client may send here) passes the pipeline's `prepare`, and a
 * query's or mutation's reads are audited by its `finish`, as over HTTP.
 */
import { randomUUID } from "node:crypto";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { Context, ServerOptions, SubscribePayload } from "graphql-ws";
import { authorizationFromPayload } from "../auth/connection-params.js";
import type { Logger } from "../kit/logger.js";
import type { Services } from "../app/services.js";
import type { GraphQLContext } from "../graphql/context.js";
import { formatError } from "./format-error.js";
import { formatExecutionResult, hideFormattedSuggestions } from "./request-check.js";
import { refusalCloseCode, type RequestFacts, type RequestPipeline } from "./request-pipeline.js";
import { SharedPayloads } from "./shared-payloads.js";
import type { SubscriptionExecution } from "./subscription-execution.js";
import type { SocketExtra as ServedSocket } from "./socket-server.js";

type ConnectionParams = Record<string, unknown>;

type SocketExtra = ServedSocket & { expiryTimer?: NodeJS.Timeout; requestId?: string };

type SocketContext = Context<ConnectionParams, SocketExtra>;

const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_MANY = 4429;

export interface WsLimits {
  connectionInitTimeoutMs: number;
  maxSubscriptionsPerSocket: number;
  maxSocketsPerUser: number;
  pingIntervalMs: number;
  /** Unread bytes past which a socket is closed with 4413 (STREAM_MAX_BUFFERED_BYTES). */
  maxBufferedBytes: number;
}

export interface WsOptions {
  schema: GraphQLSchema;
  services: Services;
  pipeline: RequestPipeline;
  logger: Logger;
  ws: WsLimits;
  /** The event execution every subscription transport shares. */
  subscriptions: SubscriptionExecution;
  isProduction: boolean;
}

/**
 * With `payloads`, a shared payload leaves serialisation as a sentinel: the socket's send must
 * then expand every message with `payloads.expand` (socket-server.ts does).
 */
export function graphqlWsOptions(options: WsOptions, payloads?: SharedPayloads): ServerOptions<ConnectionParams, SocketExtra> {
  const { pipeline } = options;
  const admission = new SocketAdmission(options);
  const shared = payloads ?? new SharedPayloads((result) => formatExecutionResult(result, options.isProduction));
  const shareQueryText = sharedQueryTexts();
  return {
    schema: options.schema,
    subscribe: options.subscriptions.subscribe,
    execute: options.subscriptions.execute,
    connectionInitWaitTimeout: options.ws.connectionInitTimeoutMs,
    onConnect: (ctx) => admission.connect(ctx),
    onClose: (ctx) => admission.close(ctx),
    onSubscribe: async (ctx, _id, payload) => {
      // graphql-ws lists this subscription among the socket's before it calls onSubscribe,
      // and drops each one once it ends or fails: the others are the ones still open.
      if (Object.keys(ctx.subscriptions).length - 1 >= options.ws.maxSubscriptionsPerSocket) {
        return [new GraphQLError("Too many subscriptions on this connection", { extensions: { code: "BAD_REQUEST" } })];
      }
      shareQueryText(payload);
      try {
        return await pipeline.prepare(factsOf(ctx), payload);
      } catch (error) {
        refuse(ctx, error as GraphQLError);
        return [error as GraphQLError];
      }
    },
    // A query's or mutation's result (a subscription's is a stream): audit what it read.
    onOperation: (_ctx, _id, _payload, args, result) => {
      if (!(Symbol.asyncIterator in result)) pipeline.finish(args.contextValue as GraphQLContext);
    },
    onNext: (_ctx, _id, _payload, _args, result) => shared.payloadOf(result),
    jsonMessageReplacer: payloads?.replacer,
    onError: (_ctx, _id, _payload, errors) => {
      return errors.map((e) => hideFormattedSuggestions(formatError(e.toJSON(), e), options.isProduction));
    },
  };
}

function factsOf(ctx: SocketContext): RequestFacts {
  return { authorization: authorizationFromPayload(ctx.connectionParams), clientIp: ctx.extra.clientIp, requestId: ctx.extra.requestId };
}

/** Closes the socket as the refusal says (4429, 4500, …); graphql-ws then closes nothing more. */
function refuse(ctx: SocketContext, error: GraphQLError): false {
  ctx.extra.socket.close(refusalCloseCode(error), error.message);
  return false;
}

function closeExpired(socket: ServedSocket["socket"]): void {
  socket.close(CLOSE_FORBIDDEN, "Token expired");
}

/**
 * Who may hold a socket: a valid token, one of the user's socket slots (held by the socket's
 * `connection` until it closes, released by socket-server.ts on the socket's own close
 * event), until the token expires. Anonymous attempts (a bad token, or a socket closed before
 * connection_init) spend the client IP's anonymous budget.
 */
class SocketAdmission {
  constructor(private readonly options: WsOptions) {}

  async connect(ctx: SocketContext): Promise<boolean> {
    let auth;
    try {
      auth = await this.options.pipeline.identify(factsOf(ctx));
    } catch (error) {
      return refuse(ctx, error as GraphQLError);
    }
    if (!auth.viewer) return false; // graphql-ws closes with 4403 Forbidden
    const held = ctx.extra.connection.hold(auth.viewer.userId);
    if (held === "closed") return false;
    if (held === "full") {
      ctx.extra.socket.close(CLOSE_TOO_MANY, "Too many connections");
      return false;
    }
    ctx.extra.requestId = randomUUID();
    const ms = auth.expiresAt.getTime() - Date.now();
    ctx.extra.expiryTimer = setTimeout(closeExpired, Math.min(ms, 2 ** 31 - 1), ctx.extra.socket);
    ctx.extra.expiryTimer.unref();
    return true;
  }

  async close(ctx: SocketContext): Promise<void> {
    clearTimeout(ctx.extra.expiryTimer);
    // A socket closed before connection_init (timed out, garbage, gone) was an anonymous attempt too.
    if (!ctx.connectionInitReceived) await this.options.pipeline.anonymousAttempt(ctx.extra.clientIp).catch(() => undefined);
  }
}

/** Distinct query texts held at once, and the longest one shared (a longer one keeps its own copy). */
const SHARED_QUERIES = 256;
const SHARED_QUERY_CHARS = 8 * 1024;

/**
 * graphql-ws keeps each subscription's message, its query text among it, for as long as the
 * subscription runs: the message's text is swapped for an equal one already held, so 5,000
 * dashboards keep one copy of their query instead of 5,000. Bounded: a full table starts over.
 */
function sharedQueryTexts(): (payload: SubscribePayload) => void {
  const texts = new Map<string, string>();
  return (payload) => {
    const query = payload.query;
    if (typeof query !== "string" || query.length > SHARED_QUERY_CHARS) return;
    const known = texts.get(query);
    if (known !== undefined) {
      (payload as { query: string }).query = known;
      return;
    }
    if (texts.size >= SHARED_QUERIES) texts.clear();
    texts.set(query, query);
  };
}
