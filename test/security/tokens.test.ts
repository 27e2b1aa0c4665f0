/**
 * Bearer tokens an attacker might try: each is UNAUTHENTICATED over HTTP and closes a
 * WebSocket with 4403; and the connection payload spellings clients use each authenticate.
 */
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument } from "../gql/graphql.js";
import { startTestApi, TEST_JWT_SECRET, type TestApi } from "../support/api.js";
import { createPatient } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";
import { connectOutcome } from "../support/ws.js";

let test: TestDatabase;
let api: TestApi;
let userId: string;
const key = new TextEncoder().encode(TEST_JWT_SECRET);
const now = () => Math.floor(Date.now() / 1000);

beforeAll(async () => {
  test = await createTestDatabase();
  // Every refused token is an anonymous attempt: room for all of them in one minute.
  api = await startTestApi(test, { AUTH_ISSUER: "https://id.clinic", AUTH_AUDIENCE: "video-api", RATE_LIMIT_ANONYMOUS_PER_MINUTE: "1000" });
  userId = (await createPatient(test.database.db)).user.id;
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
});

const base = () => new SignJWT({}).setSubject(userId).setIssuer("https://id.clinic").setAudience("video-api").setExpirationTime("5m");
const encode = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
const HOUR = 3600;
const sign = (jwt: SignJWT, typ?: string) => jwt.setProtectedHeader({ alg: "HS256", ...(typ ? { typ } : {}) }).sign(key);

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
  ["a lifetime (exp - iat) over the 24 h maximum", () => sign(base().setIssuedAt(now()).setExpirationTime(now() + 24 * HOUR + 120))],
  ["no iat and an exp beyond the 24 h maximum", () => sign(base().setExpirationTime(now() + 24 * HOUR + 120))],
  ["an exp of 9e15", () => sign(base().setIssuedAt(now()).setExpirationTime(9e15))],
  ["typ at+jwt (an OAuth access token profile)", () => sign(base(), "at+jwt")],
  ["typ dpop+jwt (a DPoP proof)", () => sign(base(), "dpop+jwt")],
  ["sub in upper case (the same uuid, not as issued)", () => sign(base().setSubject(userId.toUpperCase()))],
  ["a tampered payload", async () => {
    const [h, , s] = (await base().setProtectedHeader({ alg: "HS256" }).sign(key)).split(".");
    return `${h}.${encode({ sub: userId, iss: "https://id.clinic", aud: "video-api", exp: now() + 300, role: "admin" })}.${s}`;
  }],
];

const accepted: Array<[string, () => Promise<string>]> = [
  ["a well-formed token (the control case)", () => sign(base())],
  ["typ JWT and a lifetime just under the maximum", () => sign(base().setIssuedAt(now()).setExpirationTime(now() + 24 * HOUR - 60), "JWT")],
  ["no iat and an exp within the maximum", () => sign(base().setExpirationTime(now() + 23 * HOUR))],
];

describe("bearer tokens over HTTP", () => {
  it.each(accepted)("accepts %s", async (_name, make) => {
    expect((await api.gql(MeDocument, {}, await make())).data?.me.id).toBe(userId);
  });

  it.each(cases)("refuses %s", async (_name, make) => {
    const result = await api.gql(MeDocument, {}, await make());
    expect(result.data).toBeNull();
    expect(result.errors?.map((e) => e.extensions?.code)).toEqual(["UNAUTHENTICATED"]);
  });
});

describe("bearer tokens over WebSocket", () => {
  it.each(accepted)("accepts %s", async (_name, make) => {
    expect(await connectOutcome(api.url, { authorization: `Bearer ${await make()}` })).toBe("connected");
  });

  it.each(cases)("closes with 4403 for %s", async (_name, make) => {
    expect(await connectOutcome(api.url, { authorization: `Bearer ${await make()}` })).toBe(4403);
  });
});

describe("connection payload spellings", () => {
  const spellings: Array<[string, (value: string) => Record<string, unknown>]> = [
    ["authorization", (value) => ({ authorization: value })],
    ["Authorization", (value) => ({ Authorization: value })],
    ["headers.authorization", (value) => ({ headers: { authorization: value } })],
    ["headers.Authorization (Hasura, Apollo)", (value) => ({ headers: { Authorization: value } })],
  ];

  it.each(spellings)("authenticates with %s", async (_name, payload) => {
    expect(await connectOutcome(api.url, payload(`Bearer ${await sign(base())}`))).toBe("connected");
  });

  it.each(spellings)("refuses a bad token under %s", async (_name, payload) => {
    expect(await connectOutcome(api.url, payload(`Bearer ${await sign(base().setAudience("other-api"))}`))).toBe(4403);
  });
});
