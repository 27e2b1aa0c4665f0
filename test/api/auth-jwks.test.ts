/**
 * Bearer tokens from an identity provider's JWKS (RS256 here), with issuer and audience
 * checks. The JWKS is served by a real HTTP server on loopback.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MeDocument } from "../gql/graphql.js";
import { startTestApi, type TestApi } from "../support/api.js";
import { createPatient } from "../support/builders.js";
import { createTestDatabase, type TestDatabase } from "../support/db.js";

let test: TestDatabase;
let api: TestApi;
let jwks: Server;
let signingKey: CryptoKey;
let otherKey: CryptoKey;
let userId: string;
const ISSUER = "https://id.clinic.example";
const AUDIENCE = "consultation-api";

beforeAll(async () => {
  const pair = await generateKeyPair("RS256", { extractable: true });
  signingKey = pair.privateKey;
  otherKey = (await generateKeyPair("RS256")).privateKey;
  const publicJwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  jwks = createServer((_req, res) => {
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ keys: [publicJwk] }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, "127.0.0.1", resolve));
  const { port } = jwks.address() as AddressInfo;

  test = await createTestDatabase();
  api = await startTestApi(test, {
    AUTH_JWT_SECRET: "",
    AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    AUTH_ISSUER: ISSUER,
    AUTH_AUDIENCE: AUDIENCE,
  });
  userId = (await createPatient(test.database.db)).user.id;
});

afterAll(async () => {
  await api?.stop();
  await test?.close();
  jwks?.close();
});

const sign = (claims: { iss?: string; aud?: string; key?: CryptoKey; kid?: string } = {}) =>
  new SignJWT({})
    .setProtectedHeader({ alg: "RS256", kid: claims.kid ?? "k1" })
    .setSubject(userId)
    .setIssuer(claims.iss ?? ISSUER)
    .setAudience(claims.aud ?? AUDIENCE)
    .setExpirationTime("10m")
    .sign(claims.key ?? signingKey);

describe("JWKS authentication", () => {
  it("accepts a token signed by the provider's key with the right issuer and audience", async () => {
    const result = await api.gql(MeDocument, {}, await sign());
    expect(result.errors).toBeUndefined();
    expect(result.data?.me.id).toBe(userId);
  });

  it.each<[string, () => Parameters<typeof sign>[0]]>([
    ["another issuer", () => ({ iss: "https://evil.example" })],
    ["another audience", () => ({ aud: "someone-else" })],
    ["a key not in the JWKS", () => ({ key: otherKey, kid: "k2" })],
  ])("refuses a token with %s", async (_name, claims) => {
    const token = await sign(claims());
    const result = await api.gql(MeDocument, {}, token);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });

  it("refuses an HS256 token (no algorithm confusion with a JWKS)", async () => {
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", kid: "k1" })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode("x".repeat(64)));
    const result = await api.gql(MeDocument, {}, hs);
    expect(result.errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
  });
});
