/**
 * One typed configuration, parsed from the environment once at start (the variables are
 * declared in env.schema.ts). Every problem is reported at once (not the first only), then
 * the process exits non-zero.
 */
import { crossFieldErrors, envSchema, type Env } from "./env.schema.js";
import { partnerWebhookConfig, type PartnerWebhookConfig } from "./partner-webhooks.env.js";

export { envSchema, type Env } from "./env.schema.js";

export interface Config {
  nodeEnv: Env["NODE_ENV"];
  isProduction: boolean;
  port: number;
  host: string;
  logLevel: Env["LOG_LEVEL"];
  database: { url: string | undefined; poolMax: number; embeddedDataDir: string; queryTimeoutMs: number; listenHeartbeatMs: number };
  auth: {
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
    clockToleranceSeconds: number;
    maxLifetimeSeconds: number;
  };
  maxPageSize: number;
  shutdownTimeoutMs: number;
  /** Null when 100ms is not configured: video mutations then answer UPSTREAM_UNAVAILABLE. */
  hms: HmsConfig | null;
  video: VideoPolicy;
  webhooks: WebhookConfig;
  completionGraceSeconds: number;
  reconnectWindowSeconds: number;
  reconcileIntervalSeconds: number;
  prescriptionWindowHours: number;
  limits: { maxDepth: number; maxAliases: number; maxCost: number; maxTokens: number; defaultListSize: number; maxPageSize: number };
  /** HTTP operations and subscription events executed by graphql-jit (GRAPHQL_JIT). */
  compiledExecution: boolean;
  ws: { connectionInitTimeoutMs: number; maxSubscriptionsPerSocket: number; maxSocketsPerUser: number; pingIntervalMs: number; maxBufferedBytes: number };
  sse: { maxStreamsPerUser: number; maxBufferedBytes: number };
  rateLimits: RateLimitConfig;
  streams: StreamLimits;
  trustProxy: string | undefined;
  corsOrigins: string[];
  metricsToken: string | undefined;
  dashboardEnabled: boolean;
  /** Outbound webhooks to partners' endpoints (src/partners/). */
  partnerWebhooks: PartnerWebhookConfig;
}

export interface RateLimitConfig {
  store: "memory" | "postgres";
  mutationsPerMinute: number;
  anonymousPerMinute: number;
  /** Refused attempts per user before RATE_LIMITED; always counted in-process (see RateLimits). */
  denialsPerMinute: number;
  webhookFailuresPerMinute: number;
}

/** Bounds on subscription streams (see README, Security). */
export interface StreamLimits {
  replayMaxEvents: number;
  replayMaxAgeHours: number;
  replayMaxConcurrent: number;
  replayMaxConcurrentPerUser: number;
  recheckMs: number;
}

export interface WebhookConfig {
  header: string;
  secret: string | undefined;
  /** HIPAA workspaces: verifies `x-100ms-signature` on every delivery when set. */
  signingSecret: string | undefined;
  /** Ask 100ms to replay failed deliveries after an outage. */
  replay: boolean;
  /** Where stored webhooks are applied: a worker thread (PostgreSQL only) or the main thread. */
  apply: "worker" | "inline";
  /** Batches applied at once, for different rooms (1 on the embedded database). */
  applyLanes: number;
}

export interface HmsConfig {
  accessKey: string;
  appSecret: string;
  templateId: string;
  apiBaseUrl: string;
  region: "in" | "us" | "eu" | "auto" | undefined;
  timeoutMs: number;
}

/** Consultation rules that depend on configuration. */
export interface VideoPolicy {
  roles: { doctor: string; patient: string };
  joinEarlyMinutes: number;
  joinGraceMinutes: number;
  roomDurationSlackMinutes: number;
  legacyTokenColumns: boolean;
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
  const errors = crossFieldErrors(parsed.data);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, config: toConfig(parsed.data) };
}

function toConfig(e: Env): Config {
  const isProduction = e.NODE_ENV === "production";
  return {
    nodeEnv: e.NODE_ENV,
    isProduction,
    port: e.PORT,
    host: e.HOST ?? (isProduction ? "0.0.0.0" : "127.0.0.1"),
    logLevel: e.LOG_LEVEL,
    database: { url: e.DATABASE_URL, poolMax: e.DATABASE_POOL_MAX, embeddedDataDir: e.EMBEDDED_DATA_DIR, queryTimeoutMs: e.DATABASE_QUERY_TIMEOUT_MS, listenHeartbeatMs: e.DATABASE_LISTEN_HEARTBEAT_MS },
    auth: {
      jwtSecret: e.AUTH_JWT_SECRET,
      jwksUrl: e.AUTH_JWKS_URL,
      issuer: e.AUTH_ISSUER,
      audience: e.AUTH_AUDIENCE,
      clockToleranceSeconds: e.AUTH_CLOCK_TOLERANCE_SECONDS,
      maxLifetimeSeconds: e.AUTH_MAX_TOKEN_LIFETIME_SECONDS,
    },
    maxPageSize: e.MAX_PAGE_SIZE,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    hms: hmsConfig(e),
    webhooks: {
      header: e.HMS_WEBHOOK_HEADER.toLowerCase(),
      secret: e.HMS_WEBHOOK_SECRET,
      signingSecret: e.HMS_WEBHOOK_SIGNING_SECRET,
      replay: e.HMS_WEBHOOK_REPLAY,
      // Inline by default: in the benchmark's soak and scale-out the thread left a few acknowledged
      // events undelivered within the drain, which inline never did (docs/benchmarks.md, The apply thread).
      apply: e.WEBHOOK_APPLY ?? "inline",
      applyLanes: e.DATABASE_URL ? e.WEBHOOK_APPLY_LANES : 1,
    },
    completionGraceSeconds: e.COMPLETION_GRACE_SECONDS,
    reconnectWindowSeconds: e.RECONNECT_WINDOW_SECONDS,
    reconcileIntervalSeconds: e.RECONCILE_INTERVAL_SECONDS,
    prescriptionWindowHours: e.PRESCRIPTION_WINDOW_HOURS,
    ...transportLimits(e),
    compiledExecution: e.GRAPHQL_JIT,
    trustProxy: e.TRUST_PROXY,
    metricsToken: e.METRICS_TOKEN,
    dashboardEnabled: e.DASHBOARD_ENABLED ?? !isProduction,
    partnerWebhooks: partnerWebhookConfig(e),
    corsOrigins: (e.CORS_ORIGINS ?? "").split(",").map((o) => o.trim()).filter(Boolean),
    video: {
      roles: { doctor: e.HMS_DOCTOR_ROLE, patient: e.HMS_PATIENT_ROLE },
      joinEarlyMinutes: e.JOIN_EARLY_MINUTES,
      joinGraceMinutes: e.JOIN_GRACE_MINUTES,
      roomDurationSlackMinutes: e.ROOM_DURATION_SLACK_MINUTES,
      legacyTokenColumns: e.LEGACY_TOKEN_COLUMNS,
    },
  };
}

function hmsConfig(e: Env): HmsConfig | null {
  if (!e.HMS_ACCESS_KEY || !e.HMS_APP_SECRET || !e.HMS_TEMPLATE_ID) return null;
  return {
    accessKey: e.HMS_ACCESS_KEY,
    appSecret: e.HMS_APP_SECRET,
    templateId: e.HMS_TEMPLATE_ID,
    apiBaseUrl: e.HMS_API_BASE_URL,
    region: e.HMS_REGION,
    timeoutMs: e.HMS_TIMEOUT_MS,
  };
}

/** What bounds a request, a socket and a stream, and how often a caller may come. */
function transportLimits(e: Env): Pick<Config, "limits" | "ws" | "sse" | "rateLimits" | "streams"> {
  return {
    limits: {
      maxDepth: e.GRAPHQL_MAX_DEPTH,
      maxAliases: e.GRAPHQL_MAX_ALIASES,
      maxCost: e.GRAPHQL_MAX_COST,
      maxTokens: e.GRAPHQL_MAX_TOKENS,
      defaultListSize: 10,
      maxPageSize: e.MAX_PAGE_SIZE,
    },
    ws: {
      connectionInitTimeoutMs: e.WS_CONNECTION_INIT_TIMEOUT_MS,
      maxSubscriptionsPerSocket: e.WS_MAX_SUBSCRIPTIONS_PER_SOCKET,
      maxSocketsPerUser: e.WS_MAX_SOCKETS_PER_USER,
      pingIntervalMs: e.WS_PING_INTERVAL_MS,
      maxBufferedBytes: e.STREAM_MAX_BUFFERED_BYTES,
    },
    sse: { maxStreamsPerUser: e.SSE_MAX_STREAMS_PER_USER, maxBufferedBytes: e.STREAM_MAX_BUFFERED_BYTES },
    rateLimits: {
      store: e.RATE_LIMIT_STORE,
      mutationsPerMinute: e.RATE_LIMIT_MUTATIONS_PER_MINUTE,
      anonymousPerMinute: e.RATE_LIMIT_ANONYMOUS_PER_MINUTE,
      denialsPerMinute: e.RATE_LIMIT_DENIALS_PER_MINUTE,
      webhookFailuresPerMinute: e.RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE,
    },
    streams: {
      replayMaxEvents: e.REPLAY_MAX_EVENTS,
      replayMaxAgeHours: e.REPLAY_MAX_AGE_HOURS,
      replayMaxConcurrent: e.REPLAY_MAX_CONCURRENT,
      replayMaxConcurrentPerUser: e.REPLAY_MAX_CONCURRENT_PER_USER,
      recheckMs: e.SUBSCRIPTION_RECHECK_MS,
    },
  };
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
