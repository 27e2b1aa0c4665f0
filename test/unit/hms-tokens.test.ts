import { decodeProtectedHeader, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import { mintAppToken, mintManagementToken } from "../../src/hms/tokens.js";

const creds = { accessKey: "64ef0ea4ca5848f0e3d4663a", appSecret: "unit-test-app-secret-0123456789" };
const key = new TextEncoder().encode(creds.appSecret);
const now = new Date("2026-03-01T09:00:00.400Z");
const nowSeconds = Math.floor(now.getTime() / 1000);
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function verify(token: string, secret: Uint8Array = key) {
  return jwtVerify(token, secret, { algorithms: ["HS256"], currentDate: now });
}

describe("mintAppToken", () => {
  const expiresAt = new Date("2026-03-01T10:00:00.900Z");
  const input = { roomId: "6512f0c1a7b3c2d4e5f60718", userId: "patient_8f2c1e", role: "patient", expiresAt, now };

  it("signs exactly the documented claims with HS256 and the app secret", async () => {
    const { token, expiresAt: returned } = await mintAppToken(creds, input);
    const { payload } = await verify(token);

    expect(Object.keys(payload).sort()).toEqual(
      ["access_key", "exp", "iat", "jti", "nbf", "role", "room_id", "type", "user_id", "version"],
    );
    expect(payload).toMatchObject({
      access_key: creds.accessKey,
      room_id: input.roomId,
      user_id: "patient_8f2c1e",
      role: "patient",
      type: "app",
      version: 2,
      iat: nowSeconds - 10,
      nbf: nowSeconds - 10,
      exp: Math.floor(expiresAt.getTime() / 1000),
    });
    expect(typeof payload.user_id).toBe("string");
    expect(payload.jti).toMatch(UUID_V4);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(returned.getTime()).toBe(Math.floor(expiresAt.getTime() / 1000) * 1000);
  });

  it("keeps a numeric-looking user id a JSON string", async () => {
    const { token } = await mintAppToken(creds, { ...input, userId: "12345" });
    const { payload } = await verify(token);
    expect(payload.user_id).toBe("12345");
  });

  it("gives every token its own jti", async () => {
    const [first, second] = await Promise.all([mintAppToken(creds, input), mintAppToken(creds, input)]);
    const [a, b] = await Promise.all([verify(first.token), verify(second.token)]);
    expect(a.payload.jti).not.toBe(b.payload.jti);
  });

  it("refuses an expiry that is not in the future", async () => {
    await expect(mintAppToken(creds, { ...input, expiresAt: now })).rejects.toThrow(RangeError);
  });

  it("does not verify with a different secret", async () => {
    const { token } = await mintAppToken(creds, input);
    await expect(verify(token, new TextEncoder().encode("another-secret"))).rejects.toThrow(/signature/i);
  });
});

describe("mintManagementToken", () => {
  it("signs exactly the documented management claims", async () => {
    const { token, expiresAt } = await mintManagementToken(creds, { ttlSeconds: 600, now });
    const { payload } = await verify(token);

    expect(Object.keys(payload).sort()).toEqual(["access_key", "exp", "iat", "jti", "nbf", "type", "version"]);
    expect(payload).toMatchObject({
      access_key: creds.accessKey,
      type: "management",
      version: 2,
      iat: nowSeconds - 10,
      nbf: nowSeconds - 10,
      exp: nowSeconds + 600,
    });
    expect(payload.jti).toMatch(UUID_V4);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(expiresAt.getTime()).toBe((nowSeconds + 600) * 1000);
  });

  it("defaults to a one-hour lifetime", async () => {
    const { token } = await mintManagementToken(creds, { now });
    const { payload } = await verify(token);
    expect(payload.exp).toBe(nowSeconds + 3600);
  });

  it("refuses a non-positive lifetime", async () => {
    await expect(mintManagementToken(creds, { ttlSeconds: 0 })).rejects.toThrow(RangeError);
  });

  it("does not verify with a different secret", async () => {
    const { token } = await mintManagementToken(creds, { now });
    await expect(verify(token, new TextEncoder().encode("another-secret"))).rejects.toThrow(/signature/i);
  });
});
