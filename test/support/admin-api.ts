/** A test database, an API started on it and an admin's token, for one describe block. */
import { afterAll, beforeAll } from "vitest";
import { startTestApi, type TestApi } from "./api.js";
import { createUser } from "./builders.js";
import { createTestDatabase, serverUrl, type TestDatabase } from "./db.js";

/** PostgreSQL when a server is configured, and always embedded PGlite. */
export const drivers: Array<"postgres" | "embedded"> = serverUrl() ? ["postgres", "embedded"] : ["embedded"];

export interface AdminApi {
  test: TestDatabase;
  api: TestApi;
  adminToken: string;
}

/** Filled in by the block's beforeAll, closed by its afterAll: read the fields inside tests only. */
export function useAdminApi(driver: "postgres" | "embedded"): AdminApi {
  const env = {} as AdminApi;
  beforeAll(async () => {
    env.test = await createTestDatabase({ driver });
    env.api = await startTestApi(env.test);
    env.adminToken = await env.api.tokenFor((await createUser(env.test.database.db, "admin")).id);
  });
  afterAll(async () => {
    await env.api?.stop();
    await env.test?.close();
  });
  return env;
}
