/**
 * The verifier keeps what it verified, so a dashboard's requests do not each pay for the
 * signature; what it keeps must never outlive the token or accept what jose would refuse.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { signAccessToken } from "../../src/auth/access-token.js";
import { createTokenVerifier } from "../../src/auth/token-verifier.js";

const SECRET = "unit-test-secret-0123456789abcdef";

afterEach(() => {
  vi.useRealTimers();
});

describe("createTokenVerifier", () => {
  it("answers a token seen before the same way, and refuses it once it expired", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(new Date("2026-11-24T10:00:00Z"));
    const verify = createTokenVerifier({ jwtSecret: SECRET, clockToleranceSeconds: 5, maxLifetimeSeconds: 86_400 });
    const token = await signAccessToken(SECRET, "8d3c1c2e-6a51-4a5e-9a53-0f1f2b2f7c11", { ttlSeconds: 30 });
    const first = await verify(token);
    expect(await verify(token)).toEqual(first);
    // Past exp but within the clock tolerance: still valid, as jose says.
    vi.setSystemTime(new Date("2026-11-24T10:00:33Z"));
    expect(await verify(token)).toEqual(first);
    // Past exp + tolerance: refused, although it was verified (and kept) before.
    vi.setSystemTime(new Date("2026-11-24T10:00:36Z"));
    await expect(verify(token)).rejects.toMatchObject({ message: "Token expired" });
  });

  it("keeps nothing for a token it refused, and does not take a tampered copy for a kept one", async () => {
    const verify = createTokenVerifier({ jwtSecret: SECRET, clockToleranceSeconds: 0, maxLifetimeSeconds: 86_400 });
    const token = await signAccessToken(SECRET, "8d3c1c2e-6a51-4a5e-9a53-0f1f2b2f7c11");
    await verify(token);
    const [header, payload, signature] = token.split(".");
    const tampered = `${header}.${payload}.${signature!.slice(0, -2)}${signature!.endsWith("AA") ? "BB" : "AA"}`;
    await expect(verify(tampered)).rejects.toMatchObject({ message: "Invalid token" });
    await expect(verify(tampered)).rejects.toMatchObject({ message: "Invalid token" });
    const forged = await signAccessToken("another-secret-0123456789abcdef", "8d3c1c2e-6a51-4a5e-9a53-0f1f2b2f7c11");
    await expect(verify(forged)).rejects.toMatchObject({ message: "Invalid token" });
  });
});
