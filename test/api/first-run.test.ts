/**
 * A newcomer's `npm start`: with no DATABASE_URL and no auth configured, the real entry
 * point runs on embedded PostgreSQL (PGlite), seeds the demo clinic, prints bearer tokens and
 * a query, and that printed query returns the demo consultation. Always runs on PGlite.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnApi } from "../support/process.js";
import { createTestDatabase, serverUrl, NEEDS_POSTGRES } from "../support/db.js";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "api-first-run-"));
});

afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function runPrintedQuery(output: string) {
  const url = /GraphQL:\s+(\S+)/.exec(output)?.[1];
  const token = /-H 'authorization: Bearer (\S+)'/.exec(output)?.[1];
  const body = /-d '(.+)'$/m.exec(output)?.[1];
  expect(url && token && body).toBeTruthy();
  const response = await fetch(url!, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: body!,
  });
  return (await response.json()) as { data?: { consultation: Record<string, unknown> | null }; errors?: unknown };
}

describe("first run on the embedded database", () => {
  it("prints demo tokens and a query that returns the demo consultation, then stops cleanly on SIGTERM", async () => {
    const api = spawnApi({ EMBEDDED_DATA_DIR: dataDir, PORT: "0" });
    try {
      await api.waitFor(/Try it:[\s\S]*-d '.+'\n/, 60_000);
      const result = await runPrintedQuery(api.output());
      expect(result.errors).toBeUndefined();
      expect(result.data?.consultation).toMatchObject({
        status: "PENDING",
        doctor: { fullName: "Dr. Alex Rivera" },
        patient: { fullName: "Sam Patel" },
        participants: [{ role: "DOCTOR" }, { role: "PATIENT" }],
      });
    } finally {
      expect(await api.stop("SIGTERM")).toBe(0);
    }
    // No token or patient name reaches the structured logs (only the demo banner shows tokens).
    const logLines = api.output().split("\n").filter((l) => l.startsWith("{"));
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join("\n")).not.toMatch(/eyJ|Sam Patel|Rivera/);
  }, 90_000);

  it("keeps the data and the secret across restarts", async () => {
    const api = spawnApi({ EMBEDDED_DATA_DIR: dataDir, PORT: "0" });
    try {
      await api.waitFor(/Try it:[\s\S]*-d '.+'\n/, 60_000);
      const result = await runPrintedQuery(api.output());
      expect(result.data?.consultation).toMatchObject({ doctor: { fullName: "Dr. Alex Rivera" } });
    } finally {
      await api.stop();
    }
  }, 90_000);
});

describe("start-up configuration", () => {
  it("exits non-zero listing every configuration problem at once", async () => {
    const api = spawnApi({ NODE_ENV: "production", PORT: "nope", AUTH_JWT_SECRET: "short" });
    expect(await api.exited).toBe(78);
    const output = api.output();
    expect(output).toContain("Invalid configuration");
    expect(output).toContain("PORT");
  }, 60_000);

  it.skipIf(!serverUrl())(`never seeds the demo with DATABASE_URL${NEEDS_POSTGRES}`, async () => {
    const test = await createTestDatabase({ migrate: false });
    const api = spawnApi({ DATABASE_URL: test.url, AUTH_JWT_SECRET: "s".repeat(40), PORT: "0" });
    try {
      await api.waitFor(/API listening/, 60_000);
      expect(api.output()).not.toContain("Demo clinic");
      const users = await test.database.rows<{ n: number }>(
        (await import("drizzle-orm")).sql`select count(*)::int as n from users`,
      );
      expect(users[0]?.n).toBe(0);
    } finally {
      await api.stop();
      await test.close();
    }
  }, 90_000);
});
