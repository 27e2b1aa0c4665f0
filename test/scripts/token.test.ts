/**
 * `npm run token`: a development bearer token the API accepts, signed with AUTH_JWT_SECRET
 * (from the environment or the env file) or the embedded demo's secret; refused in production.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTokenVerifier } from "../../src/auth/token-verifier.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const USER_ID = "0b9d6c4e-2f1a-4d3b-9c8e-7a6f5e4d3c2b";
const SECRET = "token-script-secret-0123456789-abcdefghij";
let dir: string;

async function token(args: string[], env: Record<string, string | undefined>) {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(DATABASE_URL|TEST_DATABASE_URL|AUTH_|NODE_ENV|EMBEDDED_DATA_DIR|ENV_FILE)/.test(key)));
  const child = spawn(process.execPath, ["--import", "tsx", "src/scripts/token.ts", ...args], {
    cwd: ROOT,
    env: { ...clean, ENV_FILE: "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
  return { code, stdout: stdout.trim(), stderr };
}

const verifier = (secret: string, extra: { issuer?: string; audience?: string } = {}) =>
  createTokenVerifier({ jwtSecret: secret, clockToleranceSeconds: 5, maxLifetimeSeconds: 86_400, ...extra });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "token-script-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("npm run token", () => {
  it("signs with AUTH_JWT_SECRET from the env file, with its issuer, audience and the --ttl asked", async () => {
    const envFile = join(dir, "api.env");
    await writeFile(envFile, `AUTH_JWT_SECRET=${SECRET}\nAUTH_ISSUER=https://login.clinic.example/\nAUTH_AUDIENCE=consultations\n`);
    const result = await token([USER_ID, "--ttl", "30m"], { ENV_FILE: envFile });
    expect(result.code, result.stderr).toBe(0);
    const verified = await verifier(SECRET, { issuer: "https://login.clinic.example/", audience: "consultations" })(result.stdout);
    expect(verified.subject).toBe(USER_ID);
    const claims = decodeJwt(result.stdout);
    expect(claims.exp! - claims.iat!).toBe(1800);
  });

  it("signs with the embedded demo's secret when nothing else is configured", async () => {
    const demoSecret = "demo-secret-".padEnd(43, "x");
    await writeFile(join(dir, "demo-auth-secret"), demoSecret + "\n");
    const result = await token([USER_ID], { EMBEDDED_DATA_DIR: dir });
    expect(result.code, result.stderr).toBe(0);
    expect((await verifier(demoSecret)(result.stdout)).subject).toBe(USER_ID);
    expect(decodeJwt(result.stdout).exp! - decodeJwt(result.stdout).iat!).toBe(3600);
  });

  it("is refused with NODE_ENV=production", async () => {
    const result = await token([USER_ID], { NODE_ENV: "production", AUTH_JWT_SECRET: SECRET });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("refused with NODE_ENV=production");
  });

  it("says what is wrong with its arguments and prints no token", async () => {
    const cases: Array<[string[], Record<string, string>, RegExp]> = [
      [[], { AUTH_JWT_SECRET: SECRET }, /usage: npm run token -- <users\.id>/],
      [["not-a-uuid"], { AUTH_JWT_SECRET: SECRET }, /not a users\.id/],
      [[USER_ID, "--ttl", "soon"], { AUTH_JWT_SECRET: SECRET }, /--ttl soon: not a duration/],
      [[USER_ID, "--ttl", "2d"], { AUTH_JWT_SECRET: SECRET }, /AUTH_MAX_TOKEN_LIFETIME_SECONDS/],
      [[USER_ID, "--role", "admin"], { AUTH_JWT_SECRET: SECRET }, /carries no role/],
      [[USER_ID], { EMBEDDED_DATA_DIR: join(dir, "empty") }, /no demo secret in .*empty yet/],
      [[USER_ID], { AUTH_JWKS_URL: "https://login.clinic.example/jwks.json" }, /identity provider/],
    ];
    for (const [args, env, message] of cases) {
      const result = await token(args, env);
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(1);
      expect(result.stderr).toMatch(message);
      expect(result.stdout).toBe("");
    }
  }, 60_000);
});
