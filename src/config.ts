/**
 * One typed configuration, parsed from the environment once at start.
 *
 * Every problem is reported at once (not the first only), then the process exits non-zero.
 * Each variable's description here is the source of the README's configuration table.
 */
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((v) => ["true", "1", "yes", "on"].includes(v));
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === "" ? undefined : v.trim()));

/** The environment variables the API reads, with defaults and meaning. */
export const envSchema = z.object({
  NODE_ENV: z
    .enum(["development", "test", "production"])
    .default("development")
    .describe("`production` turns off introspection, field suggestions and the demo seed."),
  PORT: int(0, 65535).default(4000).describe("HTTP port for /graphql, /healthz and /readyz."),
  HOST: optionalString.describe("Interface to listen on. Default `127.0.0.1`, or `0.0.0.0` in production."),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info")
    .describe("pino log level."),
  DATABASE_URL: optionalString.describe(
    "PostgreSQL URL (postgres.js). Absent: embedded PostgreSQL (PGlite) in EMBEDDED_DATA_DIR.",
  ),
  DATABASE_POOL_MAX: int(1, 200).default(10).describe("Maximum connections in the postgres.js pool."),
  EMBEDDED_DATA_DIR: z.string().default("./.data").describe("Data directory of the embedded database."),
  AUTH_JWT_SECRET: optionalString.describe(
    "HS256 secret (at least 32 characters) that verifies bearer tokens. Set this or AUTH_JWKS_URL.",
  ),
  AUTH_JWKS_URL: optionalString.describe("JWKS URL whose keys (RS256/ES256/EdDSA) verify bearer tokens."),
  AUTH_ISSUER: optionalString.describe("Required `iss` of bearer tokens, when set."),
  AUTH_AUDIENCE: optionalString.describe("Required `aud` of bearer tokens, when set."),
  AUTH_CLOCK_TOLERANCE_SECONDS: int(0, 300).default(5).describe("Clock skew allowed on `exp`/`nbf`."),
  MAX_PAGE_SIZE: int(1, 1000).default(100).describe("Largest `first` any connection accepts."),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000)
    .default(10_000)
    .describe("On SIGTERM, how long in-flight requests may take before sockets are destroyed."),
});

export type Env = z.infer<typeof envSchema>;

export interface Config {
  nodeEnv: Env["NODE_ENV"];
  isProduction: boolean;
  port: number;
  host: string;
  logLevel: Env["LOG_LEVEL"];
  database: { url: string | undefined; poolMax: number; embeddedDataDir: string };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    clockToleranceSeconds: number;
  };
  maxPageSize: number;
  shutdownTimeoutMs: number;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Parses the environment; never throws, returns every problem found. */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    return {
      ok: false,
      errors: parsed.error.issues.map((i) => `${i.path.join(".") || "(env)"}: ${i.message}`),
    };
  }
  const e = parsed.data;
  const errors = crossFieldErrors(e);
  if (errors.length > 0) return { ok: false, errors };
  const isProduction = e.NODE_ENV === "production";
  return {
    ok: true,
    config: {
      nodeEnv: e.NODE_ENV,
      isProduction,
      port: e.PORT,
      host: e.HOST ?? (isProduction ? "0.0.0.0" : "127.0.0.1"),
      logLevel: e.LOG_LEVEL,
      database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, embeddedDataDir: e.EMBEDDED_DATA_DIR },
      auth: {
        jwtSecret: e.AUTH_JWT_SECRET,
        jwksUrl: e.AUTH_JWKS_URL,
        issuer: e.AUTH_ISSUER,
        audience: e.AUTH_AUDIENCE,
        clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE_SECONDS,
      },
      maxPageSize: e.MAX_PAGE_SIZE,
      shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    },
  };
}

function crossFieldErrors(e: Env): string[] {
  const errors: string[] = [];
  const embedded = e.DATABASE_URL === undefined;
  if (e.DATABASE_URL !== undefined && !/^postgres(ql)?:\/\//.test(e.DATABASE_URL)) {
    errors.push("DATABASE_URL: must be a postgres:// or postgresql:// URL");
  }
  if (e.AUTH_JWT_SECRET !== undefined && e.AUTH_JWKS_URL !== undefined) {
    errors.push("AUTH_JWT_SECRET / AUTH_JWKS_URL: set one of them, not both");
  }
  if (e.AUTH_JWT_SECRET !== undefined && e.AUTH_JWT_SECRET.length < 32) {
    errors.push("AUTH_JWT_SECRET: must be at least 32 characters");
  }
  if (e.AUTH_JWKS_URL !== undefined && !isHttpUrl(e.AUTH_JWKS_URL)) {
    errors.push("AUTH_JWKS_URL: must be an http(s) URL");
  }
  // The embedded demo generates its own secret; everywhere else a verifier is required.
  const hasVerifier = e.AUTH_JWT_SECRET !== undefined || e.AUTH_JWKS_URL !== undefined;
  if (!hasVerifier && (!embedded || e.NODE_ENV === "production")) {
    errors.push("AUTH_JWT_SECRET or AUTH_JWKS_URL: one is required unless running embedded in development");
  }
  if (e.NODE_ENV === "production" && embedded) {
    errors.push("DATABASE_URL: required in production (the embedded database is for development)");
  }
  return errors;
}

function isHttpUrl(value: string): boolean {
  try {
    return ["http:", "https:"].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}

/** Parses `process.env`, or prints every problem and exits with status 78 (EX_CONFIG). */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const result = parseConfig(env);
  if (result.ok) return result.config;
  process.stderr.write(
    `Invalid configuration (${result.errors.length} problem${result.errors.length === 1 ? "" : "s"}):\n` +
      result.errors.map((e) => `  - ${e}`).join("\n") +
      "\nSee the configuration table in README.md.\n",
  );
  process.exit(78);
}
