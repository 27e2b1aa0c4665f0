/**
 * Shared by the process-level fault tests: the real entry point (src/app/main.ts, as `npm start`)
 * on a test database on the local PostgreSQL, with its listening URL taken from the
 * "API listening" log line. Not a test file itself.
 */
import { TEST_JWT_SECRET, TEST_WEBHOOK_HEADER, TEST_WEBHOOK_SECRET } from "../support/api.js";
import { serverUrl } from "../support/db.js";
import { spawnApi, type ApiProcess } from "../support/process.js";

/** Why these tests are skipped, or null when a PostgreSQL server is configured. */
export const skipReason: string | null = serverUrl()
  ? null
  : "skipped: set TEST_DATABASE_URL (or DATABASE_URL) to a PostgreSQL server, e.g. postgres://root@127.0.0.1:5432/postgres";

export const WEBHOOK_HEADERS: Record<string, string> = { [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET };

export function realApiEnv(databaseUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATABASE_URL: databaseUrl,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    HMS_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    PORT: "0",
    LOG_LEVEL: "info",
    ...extra,
  };
}

export interface RealApi {
  process: ApiProcess;
  /** http://127.0.0.1:<port> from the "API listening" log line. */
  url: string;
  port: number;
  pid: number;
}

/** Spawns the API and resolves once it logs "API listening"; kills it if it never does. */
export async function startRealApi(env: Record<string, string>, timeoutMs = 45_000): Promise<RealApi> {
  const api = spawnApi(env);
  try {
    // The whole JSON line, up to its newline (so a half-written line never matches).
    const [line] = await api.waitFor(/^\{[^\n]*"API listening"[^\n]*\}(?=\n)/m, timeoutMs);
    const url = (JSON.parse(line) as { url?: unknown }).url;
    if (typeof url !== "string") throw new Error(`no url in the listening line: ${line}`);
    return { process: api, url, port: Number(new URL(url).port), pid: api.child.pid! };
  } catch (error) {
    if (api.child.exitCode === null && api.child.signalCode === null) api.child.kill("SIGKILL");
    throw error;
  }
}

/** Kills a process this test started, if it still runs, and waits for it to be gone. */
export async function ensureStopped(api: RealApi | undefined): Promise<void> {
  if (!api) return;
  const { child } = api.process;
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await api.process.exited;
}
