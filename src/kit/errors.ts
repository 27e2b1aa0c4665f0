/**
 * The one error type of the domain. Services throw it; `graphql/format-error.ts` is the one
 * place that turns it into `extensions.code`. Codes are the contract's list.
 */
export const ERROR_CODES = [
  "UNAUTHENTICATED",
  "FORBIDDEN",
  "NOT_FOUND",
  "BAD_USER_INPUT",
  "INVALID_STATE",
  "UPSTREAM_UNAVAILABLE",
  /** Not in the original contract list: too many requests; `extensions.retryAfterSeconds` says when to retry. */
  "RATE_LIMITED",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class AppError extends Error {
  override readonly name = "AppError";

  /**
   * @param message shown to the client as is: never put patient data, tokens or SQL in it.
   * @param details extra, client-safe fields for `extensions` (for example `field`).
   */
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export const unauthenticated = (message = "Authentication required") => new AppError("UNAUTHENTICATED", message);
export const badInput = (message: string, field?: string) =>
  new AppError("BAD_USER_INPUT", message, field === undefined ? {} : { field });
export const notFound = (what: string) => new AppError("NOT_FOUND", `${what} not found`);
export const rateLimited = (retryAfterSeconds: number) =>
  new AppError("RATE_LIMITED", `Too many requests; retry in ${retryAfterSeconds} s`, { retryAfterSeconds });
