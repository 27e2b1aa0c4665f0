/**
 * NODE_ENV=production: no introspection, no field suggestions, no stack traces, and an
 * unexpected failure (here: the database connection gone) reaches the client as a bare
 * INTERNAL_SERVER_ERROR with no SQL or driver detail.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "../support/api.js";
import { createCareTeam } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
let token: string;
let consultationId: string;

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { NODE_ENV: "production" });
  const team = await createCareTeam(test.database.db);
  consultationId = team.consultation.id;
  token = await api.tokenFor(team.doctor.user.id);
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

describe("in production", () => {
  it("refuses introspection", async () => {
    const { json } = await api.post({ query: "{ __schema { types { name } } }" }, { authorization: `Bearer ${token}` });
    expect(json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(json.data).toBeUndefined();
  });

  it("does not suggest field names", async () => {
    const { json } = await api.post({ query: "{ consultaton(id: \"x\") { id } }" }, { authorization: `Bearer ${token}` });
    expect(json.errors[0].extensions.code).toBe("GRAPHQL_VALIDATION_FAILED");
    expect(JSON.stringify(json)).not.toContain("Did you mean");
    expect(JSON.stringify(json)).not.toContain("consultation");
  });

  it("answers a valid request normally", async () => {
    const { json } = await api.post({ query: `{ consultation(id: "${consultationId}") { id status } }` }, { authorization: `Bearer ${token}` });
    expect(json).toEqual({ data: { consultation: { id: consultationId, status: "PENDING" } } });
  });

  it("masks an unexpected failure as INTERNAL_SERVER_ERROR without detail", async () => {
    await test.database.close();
    const { status, json } = await api.post({ query: `{ consultation(id: "${consultationId}") { id } }` }, { authorization: `Bearer ${token}` });
    // The caller's users row cannot be read: a fault of ours, never an authentication verdict.
    expect(status).toBe(503);
    expect(json.errors).toEqual([{ message: "Internal server error", extensions: { code: "INTERNAL_SERVER_ERROR" } }]);
    const readyz = await fetch(`${api.url}/readyz`);
    expect(readyz.status).toBe(503);
  });
});
