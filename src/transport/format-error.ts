/**
 * The one place where errors become what clients see. AppErrors keep their message and
 * contract code; GraphQL's own request errors (parse, validation, variable coercion) keep
 * theirs; anything else is INTERNAL_SERVER_ERROR with no detail at all (no stack, no SQL,
 * no upstream body), and is logged by `errorLoggingPlugin` with the request id.
 */
import type { ApolloServerPlugin } from "@apollo/server";
import { unwrapResolverError } from "@apollo/server/errors";
import { GraphQLError, type GraphQLFormattedError } from "graphql";
import { AppError } from "../kit/errors.js";
import type { Logger } from "../kit/logger.js";
import type { GraphQLContext } from "../graphql/context.js";

const REQUEST_ERROR_CODES = new Set([
  "GRAPHQL_PARSE_FAILED",
  "GRAPHQL_VALIDATION_FAILED",
  "BAD_USER_INPUT",
  "BAD_REQUEST",
  "OPERATION_RESOLUTION_FAILURE",
  "PERSISTED_QUERY_NOT_FOUND",
  "PERSISTED_QUERY_NOT_SUPPORTED",
  "RATE_LIMITED",
]);

export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = originalOf(error);
  const where = { locations: formatted.locations, path: formatted.path };
  if (original instanceof AppError) {
    return { message: original.message, ...where, extensions: { ...original.details, code: original.code } };
  }
  if (isRequestError(formatted, original)) {
    const { stacktrace: _omit, ...extensions } = formatted.extensions ?? {};
    return { ...formatted, extensions };
  }
  return { message: "Internal server error", ...where, extensions: { code: "INTERNAL_SERVER_ERROR" } };
}

/**
 * The error a resolver threw; also an AppError that ended a subscription's source stream,
 * which graphql-ws wraps in a GraphQLError without a path.
 */
function originalOf(error: unknown): unknown {
  const unwrapped = unwrapResolverError(error);
  return unwrapped instanceof GraphQLError && unwrapped.originalError instanceof AppError ? unwrapped.originalError : unwrapped;
}

/** A request error comes from graphql-js or Apollo itself, not from a resolver's failure. */
function isRequestError(formatted: GraphQLFormattedError, original: unknown): boolean {
  const code = formatted.extensions?.code;
  const fromResolver = formatted.path !== undefined && !(original instanceof AppError);
  return typeof code === "string" && REQUEST_ERROR_CODES.has(code) && !fromResolver;
}

/** Logs unexpected errors with the request id: error class and driver code only, no message text. */
export function errorLoggingPlugin(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ errors, contextValue }) {
          for (const error of errors) {
            const original = unwrapResolverError(error);
            if (original instanceof AppError || error.path === undefined) continue;
            logger.error(
              {
                requestId: contextValue.requestId,
                path: error.path.join("."),
                errorClass: (original as Error)?.name,
                dbCode: (original as { cause?: { code?: string } })?.cause?.code,
              },
              "unexpected error in resolver",
            );
          }
        },
      };
    },
  };
}
