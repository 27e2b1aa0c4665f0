/**
 * GraphQL over WebSocket (graphql-ws) on /graphql. The bearer token travels in
 * `connection_init` (`connectionParams: { authorization: "Bearer …" }`, or the other spellings
 * `authorizationFromPayload` reads): a bad one closes the socket with 4403, or with 4429 once
 * the client IP spent its anonymous budget (shared with HTTP requests without a valid token);
 * it is verified again on every subscribe, and the socket closes with 4403 when the token
 * expires. Results are formatted by the same `formatError` as HTTP.
 */
import { randomUUID } from "node:crypto";
import { GraphQLError, type GraphQLSchema } from "graphql";
import type { Context, ServerOptions } from "graphql-ws";
import { authenticate } from "../auth/authenticate.js";
import { authorizationFromPayload } from "../auth/connection-params.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { createContext } from "./context.js";
import { formatError } from "./format-error.js";
import { formatExecutionResult, hideFormattedSuggestions } from "./request-check.js";
import { SharedPayloads } from "./shared-payloads.js";
import type { SubscriptionExecution } from "./subscription-execution.js";
import type { SocketExtra as ServedSocket } from "./socket-server.js";

type ConnectionParams = Record<string, unknown>;

type SocketExtra = ServedSocket & { expiryTimer?: NodeJS.Timeout; requestId?: string; userId?: string };

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
  verifyToken: TokenVerifier;
  logger: Logger;
  ws: WsLimits;
  /** The request check and event execution every subscription transport shares. */
  subscriptions: SubscriptionExecution;
  isProduction: boolean;
}

/**
 * With `payloads`, a shared payload leaves serialisation as a sentinel: the socket's send must
 * then expand every message with `payloads.expand` (socket-server.ts does).
 */
export function graphqlWsOptions(options: WsOptions, payloads?: SharedPayloads): ServerOptions<ConnectionParams, SocketExtra> {
  const admission = new SocketAdmission(options);
  // graphql-ws validates with graphql's specified rules only: check with the same limits as HTTP.
  const { checkRequest, subscribe } = options.subscriptions;
  const shared = payloads ?? new SharedPayloads((result) => formatExecutionResult(result, options.isProduction));
  return {
    schema: options.schema,
    subscribe,
    connectionInitWaitTimeout: options.ws.connectionInitTimeoutMs,
    onConnect: (ctx) => admission.connect(ctx),
    onClose: (ctx) => admission.close(ctx),
    onSubscribe: (ctx, _id, payload) => {
      // graphql-ws lists this subscription among the socket's before it calls onSubscribe,
      // and drops each one once it ends or fails: the others are the ones still open.
      if (Object.keys(ctx.subscriptions).length - 1 >= options.ws.maxSubscriptionsPerSocket) {
        return [new GraphQLError("Too many subscriptions on this connection", { extensions: { code: "BAD_REQUEST" } })];
      }
      const variables = payload.variables ?? {};
      const document = checkRequest(options.schema, payload.query, payload.operationName, variables);
      if (Array.isArray(document)) return document;
      return { schema: options.schema, document, operationName: payload.operationName ?? null, variableValues: variables };
    },
    context: async (ctx) =>
      createContext({
        requestId: ctx.extra.requestId ?? randomUUID(),
        clientIp: ctx.extra.clientIp,
        auth: await admission.authOf(ctx.connectionParams),
        services: options.services,
      }),
    onNext: (_ctx, _id, _payload, _args, result) => shared.payloadOf(result),
    jsonMessageReplacer: payloads?.replacer,
    onError: (_ctx, _id, _payload, errors) => {
      return errors.map((e) => hideFormattedSuggestions(formatError(e.toJSON(), e), options.isProduction));
    },
  };
}

/**
 * Who may hold a socket: a valid token, at most `maxSocketsPerUser` sockets per user, until
 * the token expires; anonymous attempts (a bad token, or a socket closed before
 * connection_init) spend the client IP's anonymous budget.
 */
class SocketAdmission {
  readonly #socketsPerUser = new Map<string, number>();

  constructor(private readonly options: WsOptions) {}

  authOf(params: ConnectionParams | undefined) {
    return authenticate(authorizationFromPayload(params), this.options.verifyToken, this.options.services.findViewer);
  }

  async connect(ctx: SocketContext): Promise<boolean> {
    const auth = await this.authOf(ctx.connectionParams);
    if (!auth.viewer) {
      if (await this.#overAnonymousBudget(ctx.extra.clientIp)) ctx.extra.socket.close(CLOSE_TOO_MANY, "Too many requests");
      return false; // graphql-ws closes with 4403 Forbidden
    }
    const open = this.#socketsPerUser.get(auth.viewer.userId) ?? 0;
    if (open >= this.options.ws.maxSocketsPerUser) {
      ctx.extra.socket.close(CLOSE_TOO_MANY, "Too many connections");
      return false;
    }
    this.#socketsPerUser.set(auth.viewer.userId, open + 1);
    ctx.extra.userId = auth.viewer.userId;
    ctx.extra.requestId = randomUUID();
    const ms = auth.expiresAt.getTime() - Date.now();
    ctx.extra.expiryTimer = setTimeout(() => ctx.extra.socket.close(CLOSE_FORBIDDEN, "Token expired"), Math.min(ms, 2 ** 31 - 1));
    ctx.extra.expiryTimer.unref();
    return true;
  }

  async close(ctx: SocketContext): Promise<void> {
    clearTimeout(ctx.extra.expiryTimer);
    const userId = ctx.extra.userId;
    if (userId) {
      const left = (this.#socketsPerUser.get(userId) ?? 1) - 1;
      if (left > 0) this.#socketsPerUser.set(userId, left);
      else this.#socketsPerUser.delete(userId);
    }
    // A socket closed before connection_init (timed out, garbage, gone) was an anonymous attempt too.
    if (!ctx.connectionInitReceived) await this.#overAnonymousBudget(ctx.extra.clientIp);
  }

  /** Counts one anonymous attempt; true when the IP is over its budget. */
  async #overAnonymousBudget(clientIp: string | null): Promise<boolean> {
    // A failing store fails open here: the attempt is refused (4403) either way.
    const decision = await this.options.services.rateLimits.anonymous(clientIp).catch(() => ({ allowed: true }));
    return !decision.allowed;
  }
}
