/**
 * GraphQL over WebSocket (graphql-ws) on /graphql. The bearer token travels in
 * `connection_init` (`connectionParams: { authorization: "Bearer …" }`): a bad one closes the
 * socket with 4403; it is verified again on every subscribe, and the socket closes with 4403
 * when the token expires. Results are formatted by the same `formatError` as HTTP.
 */
import { randomUUID } from "node:crypto";
import type { ExecutionResult, FormattedExecutionResult, GraphQLSchema } from "graphql";
import type { ServerOptions } from "graphql-ws";
import type { Extra } from "graphql-ws/use/ws";
import { authenticate } from "../auth/authenticate.js";
import type { TokenVerifier } from "../auth/token-verifier.js";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { createContext } from "./context.js";
import { formatError } from "./format-error.js";

type ConnectionParams = Record<string, unknown> & { authorization?: string };

type SocketExtra = Extra & { expiryTimer?: NodeJS.Timeout; requestId?: string };

const CLOSE_FORBIDDEN = 4403;

export function graphqlWsOptions(options: {
  schema: GraphQLSchema;
  services: Services;
  verifyToken: TokenVerifier;
  logger: Logger;
}): ServerOptions<ConnectionParams, SocketExtra> {
  const authOf = (params: ConnectionParams | undefined) =>
    authenticate(typeof params?.authorization === "string" ? params.authorization : null, options.verifyToken, options.services.findViewer);
  return {
    schema: options.schema,
    connectionInitWaitTimeout: 10_000,
    onConnect: async (ctx) => {
      const auth = await authOf(ctx.connectionParams);
      if (!auth.viewer) return false; // graphql-ws closes with 4403 Forbidden
      ctx.extra.requestId = randomUUID();
      const ms = auth.expiresAt.getTime() - Date.now();
      ctx.extra.expiryTimer = setTimeout(() => ctx.extra.socket.close(CLOSE_FORBIDDEN, "Token expired"), Math.min(ms, 2 ** 31 - 1));
      ctx.extra.expiryTimer.unref();
      return true;
    },
    onClose: (ctx) => {
      clearTimeout(ctx.extra.expiryTimer);
    },
    context: async (ctx) => {
      const auth = await authOf(ctx.connectionParams);
      return createContext({
        requestId: ctx.extra.requestId ?? randomUUID(),
        clientIp: ctx.extra.request.socket.remoteAddress ?? null,
        auth,
        services: options.services,
      });
    },
    onNext: (_ctx, _id, _payload, _args, result) => formatResult(result),
    onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e)),
  };
}

function formatResult(result: ExecutionResult): FormattedExecutionResult {
  const { errors, ...rest } = result;
  return errors ? { ...rest, errors: errors.map((e) => formatError(e.toJSON(), e)) } : (rest as FormattedExecutionResult);
}
