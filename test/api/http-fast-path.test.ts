/**
 * POST /graphql is answered in front of Express for plain JSON requests without an Origin,
 * and by the Express route otherwise (browsers, CORS). Both must give the same answers: the
 * same request sent both ways (an Origin header sends it through Express) is compared.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { createUser } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
let token: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { TRUST_PROXY: "loopback", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "3" });
  token = await api.tokenFor((await createUser(test.database.db, "doctor")).id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

async function send(body: string, headers: Record<string, string>) {
  const response = await fetch(`${api.url}/graphql`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    requestId: response.headers.get("x-request-id"),
    retryAfter: response.headers.get("retry-after"),
    body: await response.text(),
  };
}

/** The same request without an Origin (fast path) and with one (Express route). */
async function bothWays(body: string, headers: Record<string, string> = {}) {
  const fast = await send(body, headers);
  const viaExpress = await send(body, { ...headers, origin: "https://not-allowed.example" });
  return { fast, viaExpress };
}

describe("POST /graphql, fast path and Express route", () => {
  it("answer queries, errors and bad bodies the same", async () => {
    const cases: Array<[string, Record<string, string>]> = [
      [JSON.stringify({ query: "{ me { id role } }" }), { authorization: `Bearer ${token}` }],
      [JSON.stringify({ query: "{ me { id role } }" }), { authorization: "Bearer not-a-token", "x-forwarded-for": "198.51.100.1" }],
      [JSON.stringify({ query: "{ me { nope } }" }), { authorization: `Bearer ${token}` }],
      [JSON.stringify({ query: "query ($n: Int!) { consultations(first: $n) { edges { node { id } } } }", variables: { n: "x" } }), { authorization: `Bearer ${token}` }],
      ["{not json", { authorization: `Bearer ${token}` }],
      ["123", { authorization: `Bearer ${token}` }],
      [JSON.stringify([{ query: "{ me { id } }" }]), { authorization: `Bearer ${token}` }],
      [JSON.stringify({ query: "{ me { id } }" }), { authorization: `Bearer ${token}`, "x-request-id": "client-chosen-id" }],
    ];
    for (const [body, headers] of cases) {
      const { fast, viaExpress } = await bothWays(body, headers);
      expect({ ...fast, requestId: fast.requestId === null ? null : fast.requestId === "client-chosen-id" ? "kept" : "set" }, body).toEqual({
        ...viaExpress,
        requestId: viaExpress.requestId === null ? null : viaExpress.requestId === "client-chosen-id" ? "kept" : "set",
      });
    }
  });

  it("sees the client IP as Express does (trusted proxy hops), for per-IP limits", async () => {
    const anonymous = JSON.stringify({ query: "{ me { id } }" });
    // Three anonymous requests per minute per client IP: the fourth from 203.0.113.7 is
    // refused, one from another address behind the same proxy is not.
    for (let i = 0; i < 3; i++) expect((await send(anonymous, { "x-forwarded-for": "203.0.113.7" })).status).toBe(200);
    const limited = await send(anonymous, { "x-forwarded-for": "203.0.113.7" });
    expect(limited.status).toBe(429);
    expect(limited.retryAfter).not.toBeNull();
    expect((await send(anonymous, { "x-forwarded-for": "203.0.113.8" })).status).toBe(200);
    // The Express route counts the same address in the same bucket.
    expect((await send(anonymous, { "x-forwarded-for": "203.0.113.7", origin: "https://not-allowed.example" })).status).toBe(429);
  });
});
