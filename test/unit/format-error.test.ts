import { GraphQLError } from "graphql";
import { describe, expect, it } from "vitest";
import { AppError } from "../../src/kit/errors.js";
import { formatError } from "../../src/transport/format-error.js";

/** What Apollo passes for an error thrown inside a resolver. */
function resolverError(original: Error) {
  const wrapped = new GraphQLError(original.message, { path: ["consultation"], originalError: original });
  return { formatted: { message: original.message, path: ["consultation"], extensions: { code: "INTERNAL_SERVER_ERROR", stacktrace: ["at x"] } }, wrapped };
}

describe("formatError", () => {
  it("keeps an AppError's message and contract code", () => {
    const { formatted, wrapped } = resolverError(new AppError("NOT_FOUND", "Consultation not found"));
    expect(formatError(formatted, wrapped)).toEqual({
      message: "Consultation not found",
      path: ["consultation"],
      locations: undefined,
      extensions: { code: "NOT_FOUND" },
    });
  });

  it("keeps the code of an AppError that ended a subscription stream (graphql-ws wraps it without a path)", () => {
    const wrapped = new GraphQLError("Your access changed", { originalError: new AppError("FORBIDDEN", "Your access changed") });
    expect(formatError(wrapped.toJSON(), wrapped)).toMatchObject({ message: "Your access changed", extensions: { code: "FORBIDDEN" } });
  });

  it("masks anything unexpected, SQL text included", () => {
    const dbError = new Error('Failed query: select "full_name" from "users" where id = $1 params: 42');
    const { formatted, wrapped } = resolverError(dbError);
    const out = formatError(formatted, wrapped);
    expect(out.message).toBe("Internal server error");
    expect(out.extensions).toEqual({ code: "INTERNAL_SERVER_ERROR" });
    expect(JSON.stringify(out)).not.toContain("users");
  });

  it("masks a GraphQLError thrown by a resolver even when it claims a request-error code", () => {
    const sneaky = new GraphQLError("leaky detail", { extensions: { code: "BAD_USER_INPUT" } });
    const out = formatError({ message: "leaky detail", path: ["x"], extensions: { code: "BAD_USER_INPUT" } }, sneaky);
    expect(out.message).toBe("Internal server error");
  });

  it("keeps graphql-js validation errors, without stack traces", () => {
    const out = formatError(
      { message: 'Cannot query field "nope" on type "Query".', extensions: { code: "GRAPHQL_VALIDATION_FAILED", stacktrace: ["x"] } },
      new GraphQLError("x"),
    );
    expect(out.extensions).toEqual({ code: "GRAPHQL_VALIDATION_FAILED" });
    expect(out.message).toContain("nope");
  });
});
