/**
 * GraphQL over WebSocket (graphql-ws) on /graphql. The bearer token travels in
 * `connection_init` (`connectionParams: { authorization: "Bearer …" }`, or the other spellings
 * `authorizationFromPayload` reads): a bad one closes the socket with 4403, or with 4429 once
 * the client IP spent its anonymous budget (shared with HTTP requests without a valid token);
 * it is verified again on every subscribe, and the socket closes with 4403 when the token
 * expires. Results are formatted by the same `formatError` as HTTP.
 */
import { randomUUID } from "node:crypto";
import { GraphQLError, type ExecutionResult, type FormattedExecutionResult, type GraphQLSchema } from "graphql";
import type { ServerOptions } from "graphql-ws";
import type { Extra } from "graphql-ws/use/ws";
import type { IncomingMessage } from "node:http";
import { authenticate } from "../auth/authenticate.js";
import { authorizationFromPayload } from "../auth/connection-params.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { createContext } from "./context.js";
import { formatError } from "./format-error.js";
import type { QueryLimits } from "./limits.js";
import { createRequestCheck, hideFormattedSuggestions } from "./request-check.js";

type ConnectionParams = Record<string, unknown>;

type SocketExtra = Extra & { expiryTimer?: NodeJS.Timeout; requestId?: string; userId?: string; active?: Set<string> };

const CLOSE_FORBIDDEN = 4403;
const CLOSE_TOO_MANY = 4429;

export interface WsLimits {
  connectionInitTimeoutMs: number;
  maxSubscriptionsPerSocket: number;
  maxSocketsPerUser: number;
  pingIntervalMs: number;
}

export function graphqlWsOptions(options: {
  schema: GraphQLSchema;
  services: Services;
  verifyToken: TokenVerifier;
  logger: Logger;
  limits: QueryLimits;
  ws: WsLimits;
  isProduction: boolean;
  /** The client's IP as HTTP sees it (behind TRUST_PROXY: from X-Forwarded-For). */
  clientIp: (request: IncomingMessage) => string | null;
}): ServerOptions<ConnectionParams, SocketExtra> {
  const socketsPerUser = new Map<string, number>();
  // graphql-ws validates with graphql's specified rules only: check with the same limits as HTTP.
  const checkRequest = createRequestCheck(options.limits, options.isProduction);
  const authOf = (params: ConnectionParams | undefined) =>
    authenticate(authorizationFromPayload(params), options.verifyToken, options.services.findViewer);
  /** Counts one anonymous attempt; true when the IP is over its budget. */
  const overAnonymousBudget = async (request: IncomingMessage): Promise<boolean> => {
    // A failing store fails open here: the attempt is refused (4403) either way.
    const decision = await options.services.rateLimits.anonymous(options.clientIp(request)).catch(() => ({ allowed: true }));
    return !decision.allowed;
  };
  return {
    schema: options.schema,
    connectionInitWaitTimeout: options.ws.connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      const auth = await authOf(ctx.connectionParams);
      if (!auth.viewer) {
        if (await overAnonymousBudget(ctx.extra.request)) ctx.extra.socket.close(CLOSE_TOO_MANY, "Too many requests");
        return false; // graphql-ws closes with 4403 Forbidden
      }
      const open = socketsPerUser.get(auth.viewer.userId) ?? 0;
      if (open >= options.ws.maxSocketsPerUser) {
        ctx.extra.socket.close(CLOSE_TOO_MANY, "Too many connections");
        return false;
      }
      socketsPerUser.set(auth.viewer.userId, open + 1);
      ctx.extra.userId = auth.viewer.userId;
      ctx.extra.active = new Set();
      ctx.extra.requestId = randomUUID();
      const ms = auth.expiresAt.getTime() - Date.now();
      ctx.extra.expiryTimer = setTimeout(() => ctx.extra.socket.close(CLOSE_FORBIDDEN, "Token expired"), Math.min(ms, 2 ** 31 - 1));
      ctx.extra.expiryTimer.unref();
      return true;
    },
    onClose: async (ctx) => {
      clearTimeout(ctx.extra.expiryTimer);
      const userId = ctx.extra.userId;
      if (userId) {
        const left = (socketsPerUser.get(userId) ?? 1) - 1;
        if (left > 0) socketsPerUser.set(userId, left);
        else socketsPerUser.delete(userId);
      }
      // A socket closed before connection_init (timed out, garbage, gone) was an anonymous attempt too.
      if (!ctx.connectionInitReceived) await overAnonymousBudget(ctx.extra.request);
    },
    onSubscribe: (ctx, id, payload) => {
      const active = ctx.extra.active ?? new Set<string>();
      if (active.size >= options.ws.maxSubscriptionsPerSocket) {
        return [limitError("Too many subscriptions on this connection")];
      }
      const variables = payload.variables ?? {};
      const document = checkRequest(options.schema, payload.query, payload.operationName, variables);
      if (Array.isArray(document)) return document;
      active.add(id);
      return { schema: options.schema, document, operationName: payload.operationName ?? null, variableValues: variables };
    },
    onComplete: (ctx, id) => {
      ctx.extra.active?.delete(id);
    },
    context: async (ctx) => {
      const auth = await authOf(ctx.connectionParams);
      return createContext({
        requestId: ctx.extra.requestId ?? randomUUID(),
        clientIp: options.clientIp(ctx.extra.request),
        auth,
        services: options.services,
      });
    },
    onNext: (_ctx, _id, _payload, _args, result) => formatResult(result),
    onError: (ctx, id, _payload, errors) => {
      ctx.extra.active?.delete(id);
      return errors.map((e) => hideFormattedSuggestions(formatError(e.toJSON(), e), options.isProduction));
    },
  };
}

function limitError(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "BAD_REQUEST" } });
}

function formatResult(result: ExecutionResult): FormattedExecutionResult {
  const { errors, ...rest } = result;
  return errors ? { ...rest, errors: errors.map((e) => formatError(e.toJSON(), e)) } : (rest as FormattedExecutionResult);
}
