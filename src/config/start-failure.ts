/**
 * Why the API could not start, said in terms of the setting to change: the database it could
 * not reach (host, port and name from DATABASE_URL, never the user or password) or the port
 * it could not listen on. Anything else is described by its own message.
 */
import type { Config } from "./config.js";

/** Network failures while connecting (Node's and postgres.js's codes). */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ECONNRESET",
  "CONNECT_TIMEOUT",
  "CONNECTION_CLOSED",
  "CONNECTION_ENDED",
  "CONNECTION_DESTROYED",
]);

/**
 * PostgreSQL's refusals of the connection itself: class 28 (wrong user or password), 3D000 (no
 * such database), 57P03 (still starting up), 53300 (too many connections).
 */
function isRefusal(sqlState: string): boolean {
  return sqlState.startsWith("28") || ["3D000", "57P03", "53300"].includes(sqlState);
}

type StartError = Error & { code?: unknown; syscall?: unknown };

/** One line for the operator: what failed and which setting to check. */
export function describeStartFailure(error: unknown, config: Pick<Config, "port" | "host" | "database">): string {
  const { code, syscall, message, name } = (error ?? {}) as StartError;
  const codeText = typeof code === "string" ? code : "";
  if (syscall === "listen") {
    if (codeText === "EADDRINUSE") return `PORT ${config.port} is in use: set PORT to a free port (or stop what holds it)`;
    if (codeText === "EACCES") return `PORT ${config.port} may not be opened by this user: set PORT (1024 or above)`;
    if (codeText === "EADDRNOTAVAIL") return `HOST ${config.host} is not an address of this machine: set HOST`;
  }
  const url = config.database.url;
  if (url !== undefined) {
    const where = databaseLocation(url);
    if (UNREACHABLE.has(codeText)) return `cannot reach the database at ${where} (${codeText}): check DATABASE_URL`;
    if (name === "PostgresError" && isRefusal(codeText)) return `the database at ${where} refused the connection (${message}): check DATABASE_URL`;
  }
  return typeof message === "string" && message !== "" ? message : String(error);
}

/** host:port/name of a postgres:// URL, without its user or password. */
export function databaseLocation(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname || "localhost"}:${parsed.port || "5432"}${parsed.pathname.length > 1 ? parsed.pathname : ""}`;
  } catch {
    return "(DATABASE_URL does not parse as a URL)";
  }
}
