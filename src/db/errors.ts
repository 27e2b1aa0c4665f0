/**
 * What kind of failure a database error is, for callers that decide whether to retry or to
 * blame the input: the database unreachable (no answer, connection refused, reset or closed)
 * as opposed to a statement it refused.
 */
import { DatabaseTimeoutError } from "./client.js";
import { connectionGone } from "./driver-workarounds.js";

const UNREACHABLE = new Set(["ECONNREFUSED", "ETIMEDOUT", "EHOSTUNREACH", "ENOTFOUND", "CONNECT_TIMEOUT"]);

/** The database did not answer or could not be reached: the same statement may well work later. */
export function databaseUnreachable(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DatabaseTimeoutError || connectionGone(e) || UNREACHABLE.has((e as { code?: unknown }).code as string)) return true;
  }
  return false;
}
