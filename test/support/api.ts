/**
 * Starts the real API (HTTP server on a free loopback port) on a test database, and talks to
 * it over real HTTP with the codegen'd typed documents.
 */
import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { print, type GraphQLFormattedError } from "graphql";
import { startApi, type RunningApi } from "../../src/app/app.js";
import { signAccessToken } from "../../src/auth/access-token.js";
import { parseConfig, type Config } from "../../src/config/config.js";
import { createLogger } from "../../src/kit/logger.js";
import type { TestDatabase } from "./db.js";

export const TEST_JWT_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz";
export const TEST_WEBHOOK_SECRET = "webhook-secret-0123456789";
export const TEST_WEBHOOK_HEADER = "x-hms-webhook-secret";

export interface GraphQLResponse<T> {
  status: number;
  data?: T | null;
  errors?: GraphQLFormattedError[];
}

export interface TestApi {
  url: string;
  api: RunningApi;
  config: Config;
  /** A valid bearer token for a users.id. */
  tokenFor(userId: string, options?: { ttlSeconds?: number }): Promise<string>;
  gql<T, V extends Record<string, unknown>>(
    document: TypedDocumentNode<T, V>,
    variables: V,
    token?: string | null,
  ): Promise<GraphQLResponse<T>>;
  /**
   * POSTs a 100ms webhook body with the right secret header; resolves with the status once
   * the API has also applied it (the 200 only says it is stored).
   */
  webhook(body: unknown): Promise<number>;
  /** Resolves once every webhook acknowledged so far has been applied. */
  settled(): Promise<void>;
  /** Raw POST of any body to /graphql. */
  post(body: unknown, headers?: Record<string, string>): Promise<{ status: number; json: any }>;
  stop(): Promise<void>;
}

export function testConfig(env: Record<string, string> = {}): Config {
  const result = parseConfig({
    NODE_ENV: "test",
    PORT: "0",
    LOG_LEVEL: "silent",
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    HMS_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
    // Tests run reconciliation themselves (api.api.reconciler.runOnce()), never on a timer.
    RECONCILE_INTERVAL_SECONDS: "0",
    DATABASE_URL: "postgres://unused.invalid/x",
    ...env,
  });
  if (!result.ok) throw new Error(result.errors.join("; "));
  return result.config;
}

export async function startTestApi(
  test: TestDatabase,
  env: Record<string, string> = {},
  options: { logs?: { write(line: string): void } } = {},
): Promise<TestApi> {
  // The apply thread opens its own pool on this URL (WEBHOOK_APPLY=worker).
  const config = testConfig({ ...(test.url ? { DATABASE_URL: test.url } : {}), ...env });
  const logger = options.logs ? createLogger("debug", options.logs) : createLogger("silent");
  const api = await startApi(config, logger, { database: test.database });
  const post = async (body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${api.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as any };
  };
  return {
    url: api.url,
    api,
    config,
    tokenFor: (userId, options) => signAccessToken(TEST_JWT_SECRET, userId, options),
    gql: async (document, variables, token) => {
      const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
      const { status, json } = await post({ query: print(document), variables }, headers);
      return { status, ...json };
    },
    post,
    webhook: async (body) => {
      const response = await fetch(`${api.url}/webhooks/100ms`, {
        method: "POST",
        headers: { "content-type": "application/json", [TEST_WEBHOOK_HEADER]: TEST_WEBHOOK_SECRET },
        body: JSON.stringify(body),
      });
      await response.arrayBuffer();
      await api.services.webhooks.idle();
      return response.status;
    },
    settled: () => api.services.webhooks.idle(),
    stop: () => api.stop(),
  };
}
