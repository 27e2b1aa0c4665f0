/**
 * Faults on our side, met while a caller is being identified or admitted, over all four ways
 * in: the answer is INTERNAL_SERVER_ERROR (HTTP and SSE 503, a 4500 close), never an
 * authentication verdict (4403 would send an app to fetch a new token it does not need) and
 * never a pass (a failing rate-limit store lets nobody through unthrottled). Also the
 * dashboard's headers.
 */
import { afterAll, describe, expect, it } from "vitest";
import { contentSecurityPolicy } from "../../src/dashboard/dashboard.route.js";
import { startTestApi, TEST_WEBHOOK_HEADER, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { runOver, TRANSPORTS } from "../support/transports.js";

const opened: Array<{ api: TestApi; test: TestDatabase }> = [];

async function start(env: Record<string, string> = {}) {
  const test = await createTestDatabase();
  const api = await startTestApi(test, env);
  opened.push({ api, test });
  return { api, test };
}

afterAll(async () => {
  for (const { api, test } of opened) {
    await api.stop().catch(() => undefined);
    await test.close().catch(() => undefined);
  }
});

describe("the database stops answering while a caller connects", () => {
  it.each(TRANSPORTS)("over %s: a valid token gets INTERNAL_SERVER_ERROR, not an authentication refusal", async (transport) => {
    const { api, test } = await start();
    const team = await createCareTeam(test.database.db);
    const token = await api.tokenFor(team.doctor.user.id);
    await test.database.close();
    const outcome = await runOver(transport, api.url, token, { query: "{ me { id } }" });
    expect(outcome.codes).toEqual(["INTERNAL_SERVER_ERROR"]);
  });
});

describe("the rate-limit store fails (RATE_LIMIT_STORE=postgres, its table gone)", () => {
  it("refuses anonymous attempts with INTERNAL_SERVER_ERROR on every transport, and webhooks with 503", async () => {
    const { api, test } = await start({ RATE_LIMIT_STORE: "postgres" });
    await test.exec("ALTER TABLE rate_limits RENAME TO rate_limits_gone");
    for (const transport of TRANSPORTS) {
      const outcome = await runOver(transport, api.url, "not-a-token", { query: "{ me { id } }" });
      expect(outcome.codes, transport).toEqual(["INTERNAL_SERVER_ERROR"]);
    }
    const webhook = await fetch(`${api.url}/webhooks/100ms`, {
      method: "POST",
      headers: { "content-type": "application/json", [TEST_WEBHOOK_HEADER]: "a guess" },
      body: JSON.stringify({ type: "peer.join.success" }),
    });
    expect(webhook.status).toBe(503);
  });
});

describe("the dashboard", () => {
  it("is served with nosniff, no referrer, and a CSP that connects to its own origin only", async () => {
    const { api } = await start();
    const response = await fetch(`${api.url}/dashboard/`);
    const host = new URL(api.url).host;
    expect(response.status).toBe(200);
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain(`connect-src 'self' ws://${host} wss://${host};`);
    expect(csp).not.toMatch(/\bws: |\bwss: /);
  });

  it("names no other host when the Host header is not a plain host", () => {
    expect(contentSecurityPolicy("evil.example/x; script-src *")).toContain("connect-src 'self';");
    expect(contentSecurityPolicy(undefined)).toContain("connect-src 'self';");
  });
});
