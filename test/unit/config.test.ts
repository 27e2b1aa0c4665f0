import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";

const SECRET = "x".repeat(32);

describe("parseConfig", () => {
  it("applies defaults for a newcomer's embedded development run", () => {
    const result = parseConfig({});
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config).toMatchObject({
      nodeEnv: "development",
      port: 4000,
      host: "127.0.0.1",
      database: { url: undefined, embeddedDataDir: "./.data" },
      maxPageSize: 100,
    });
  });

  it("reports every problem at once", () => {
    const result = parseConfig({
      PORT: "http",
      LOG_LEVEL: "loud",
      AUTH_JWT_SECRET: "short",
      AUTH_JWKS_URL: "ftp://keys",
      NODE_ENV: "production",
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.some((e) => e.startsWith("PORT"))).toBe(true);
    expect(result.errors.some((e) => e.startsWith("LOG_LEVEL"))).toBe(true);
    expect(result.errors.length).toBeGreaterThanOrEqual(2);
  });

  it("reports all cross-field problems together", () => {
    const result = parseConfig({ NODE_ENV: "production", AUTH_JWT_SECRET: "short", AUTH_JWKS_URL: "ftp://keys" });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const joined = result.errors.join("\n");
    expect(joined).toContain("not both");
    expect(joined).toContain("at least 32 characters");
    expect(joined).toContain("AUTH_JWKS_URL: must be an http(s) URL");
    expect(joined).toContain("DATABASE_URL: required in production");
  });

  it("requires a token verifier outside the embedded development demo", () => {
    const withDb = parseConfig({ DATABASE_URL: "postgres://db/app" });
    expect(withDb.ok).toBe(false);
    const withSecret = parseConfig({ DATABASE_URL: "postgres://db/app", AUTH_JWT_SECRET: SECRET });
    expect(withSecret.ok).toBe(true);
  });

  it("listens on all interfaces in production by default", () => {
    const result = parseConfig({ NODE_ENV: "production", DATABASE_URL: "postgres://db/app", AUTH_JWT_SECRET: SECRET });
    expect(result.ok && result.config.host).toBe("0.0.0.0");
  });

  it("rejects a DATABASE_URL that is not PostgreSQL", () => {
    const result = parseConfig({ DATABASE_URL: "mysql://db/app", AUTH_JWT_SECRET: SECRET });
    expect(result.ok).toBe(false);
  });
});
