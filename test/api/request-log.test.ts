/**
 * The one log line per request names the path the client asked for (without its query
 * string), also for requests answered inside a router mounted on a path, as /graphql is.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
const logs: string[] = [];

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { CORS_ORIGINS: "https://app.clinic.example" }, { logs: { write: (line) => void logs.push(line) } });
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

/** The request lines logged so far, as [method, path, status]. */
function requestLines(): Array<[string, string, number]> {
  return logs
    .map((line) => JSON.parse(line) as { msg: string; method: string; path: string; status: number })
    .filter((entry) => entry.msg === "request")
    .map((entry) => [entry.method, entry.path, entry.status]);
}

describe("the request log", () => {
  it("logs the requested path of every route, without the query string", async () => {
    const query = encodeURIComponent("{ __typename }");
    const answers = await Promise.all([
      fetch(`${api.url}/healthz`),
      fetch(`${api.url}/readyz?probe=1`),
      // Through Express (a browser origin), not the fast path in front of it.
      fetch(`${api.url}/graphql`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://app.clinic.example" },
        body: JSON.stringify({ query: "{ __typename }" }),
      }),
      fetch(`${api.url}/graphql?query=${query}`, { headers: { "apollo-require-preflight": "true" } }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    await expect.poll(() => requestLines().length).toBeGreaterThanOrEqual(4);
    expect(requestLines()).toEqual(
      expect.arrayContaining([
        ["GET", "/healthz", 200],
        ["GET", "/readyz", 200],
        ["POST", "/graphql", 200],
        ["GET", "/graphql", 200],
      ]),
    );
    expect(requestLines().map(([, path]) => path)).not.toContain("/");
    expect(logs.join("\n")).not.toContain("__typename");
  });
});
