/** Bearer tokens an attacker might try: each is UNAUTHENTICATED. */
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument } from "../gql/graphql.js";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/api.js";
import { createPatient } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
let userId: string;
const key = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  test = await createTestDatabase();
  api = await startTestApi(test, { AUTH_ISSUER: "https://id.clinic", AUTH_AUDIENCE: "video-api" });
  userId = (await createPatient(test.database.db)).user.id;
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

const base = () => new SignJWT({}).setSubject(userId).setIssuer("https://id.clinic").setAudience("video-api").setExpirationTime("5m");
const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");

const cases: Array<[string, () => Promise<string>]> = [
  ["alg: none", async () => `${encode({ alg: "none", typ: "JWT" })}.${encode({ sub: userId, iss: "https://id.clinic", aud: "video-api", exp: now() + 300 })}.`],
  ["another HMAC algorithm (HS512)", () => base().setProtectedHeader({ alg: "HS512" }).sign(key)],
  [
    "an asymmetric algorithm (RS256)",
    async () => base().setProtectedHeader({ alg: "RS256" }).sign((await generateKeyPair("RS256")).privateKey),
  ],
  ["a wrong issuer", () => base().setIssuer("https://evil").setProtectedHeader({ alg: "HS256" }).sign(key)],
  ["a wrong audience", () => base().setAudience("other-api").setProtectedHeader({ alg: "HS256" }).sign(key)],
  ["no exp", () => new SignJWT({}).setSubject(userId).setIssuer("https://id.clinic").setAudience("video-api").setProtectedHeader({ alg: "HS256" }).sign(key)],
  ["an expired exp", () => base().setExpirationTime(now() - 60).setProtectedHeader({ alg: "HS256" }).sign(key)],
  ["a far-future iat", () => base().setIssuedAt(now() + 86_400).setProtectedHeader({ alg: "HS256" }).sign(key)],
  ["a not-yet-valid nbf", () => base().setNotBefore(now() + 3600).setProtectedHeader({ alg: "HS256" }).sign(key)],
  ["a tampered payload", async () => {
    const [h, , s] = (await base().setProtectedHeader({ alg: "HS256" }).sign(key)).split(".");
    return `${h}.${encode({ sub: userId, iss: "https://id.clinic", aud: "video-api", exp: now() + 300, role: "admin" })}.${s}`;
  }],
];

describe("bearer tokens", () => {
  it("accepts a well-formed token (the control case)", async () => {
    const ok = await base().setProtectedHeader({ alg: "HS256" }).sign(key);
    expect((await api.gql(MeDocument, {}, ok)).data?.me.id).toBe(userId);
  });

  it.each(cases)("refuses %s", async (_name, make) => {
    const result = await api.gql(MeDocument, {}, await make());
    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});
