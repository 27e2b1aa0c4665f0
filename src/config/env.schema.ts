/**
 * The environment variables the API reads, each with its range, default and description (the
 * source of the README's configuration table), and the rules that join several of them.
 */
import { z } from "zod";
import { partnerWebhookEnv } from "./partner-webhooks.env.js";

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
  DATABASE_QUERY_TIMEOUT_MS: int(0, 600_000)
    .default(5_000)
    .describe(
      "Longest wait for one statement (a transaction: twice that), from asking the pool for a connection to the answer. Past it the statement fails and is cancelled: a webhook answers 503 (100ms retries it), a GraphQL request INTERNAL_SERVER_ERROR, a socket closes with 4500, instead of hanging while the database does not answer. Migrations are not bounded. 0: no bound.",
    ),
  DATABASE_LISTEN_HEARTBEAT_MS: int(100, 60_000)
    .default(2_000)
    .describe(
      "How often each instance checks the connection it LISTENs for new events on, by notifying itself on it. Two beats unanswered (a silent partition, a NAT that forgot the connection): it is dropped, a new one LISTENs, and the instance reads the event log from the last event it pushed, so subscribers miss nothing. PostgreSQL only.",
    ),
  EMBEDDED_DATA_DIR: z.string().default("./.data").describe("Data directory of the embedded database."),
  AUTH_JWT_SECRET: optionalString.describe(
    "HS256 secret (at least 32 characters) that verifies bearer tokens. Set this or AUTH_JWKS_URL.",
  ),
  AUTH_JWKS_URL: optionalString.describe("JWKS URL whose keys (RS256/ES256/EdDSA) verify bearer tokens."),
  AUTH_ISSUER: optionalString.describe("Required `iss` of bearer tokens, when set."),
  AUTH_AUDIENCE: optionalString.describe(
    "Required `aud` of bearer tokens, when set. Recommended: without it, any token your identity provider signs for another app is accepted here.",
  ),
  AUTH_CLOCK_TOLERANCE_SECONDS: int(0, 300).default(5).describe("Clock skew allowed on `exp`/`nbf`."),
  AUTH_MAX_TOKEN_LIFETIME_SECONDS: int(60, 31 * 86_400)
    .default(86_400)
    .describe("Longest lifetime a bearer token may have: `exp − iat` (without `iat`: `exp −` now); longer ones are refused."),
  MAX_PAGE_SIZE: int(1, 1000).default(100).describe("Largest `first` any connection accepts."),
  HMS_ACCESS_KEY: optionalString.describe("100ms app access key (Dashboard > Developer). Without the three HMS_ keys, video mutations answer UPSTREAM_UNAVAILABLE."),
  HMS_APP_SECRET: optionalString.describe("100ms app secret: signs room join tokens and management tokens. Never sent to clients."),
  HMS_TEMPLATE_ID: optionalString.describe("100ms template with the doctor and patient roles (see README, Setting up 100ms)."),
  HMS_API_BASE_URL: z.string().url().default("https://api.100ms.live/v2").describe("100ms REST API base URL."),
  HMS_REGION: z.enum(["in", "us", "eu", "auto"]).optional().describe("100ms region for new rooms; absent: the template's."),
  HMS_DOCTOR_ROLE: z.string().min(1).default("doctor").describe("Template role name for the doctor (case-sensitive)."),
  HMS_PATIENT_ROLE: z.string().min(1).default("patient").describe("Template role name for the patient (case-sensitive)."),
  HMS_TIMEOUT_MS: int(100, 60_000).default(5000).describe("Timeout of each 100ms API call."),
  HMS_WEBHOOK_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,64}$/)
    .default("x-hms-webhook-secret")
    .describe("Name of the custom header 100ms sends with every webhook (set in the 100ms dashboard)."),
  HMS_WEBHOOK_SECRET: optionalString.describe(
    "Value of that header (at least 16 characters). Absent: POST /webhooks/100ms answers 503.",
  ),
  HMS_WEBHOOK_SIGNING_SECRET: optionalString.describe(
    "HIPAA workspaces: the secret 100ms signs webhooks with. When set, every webhook must also carry `x-100ms-signature` = lowercase hex HMAC-SHA256 of the raw body, or it is a 401.",
  ),
  HMS_WEBHOOK_REPLAY: bool
    .default(true)
    .describe("After an outage (at start, or when the reconciler finds a room disagreeing), ask 100ms to replay the webhooks it failed to deliver; off: infer from the active room only."),
  WEBHOOK_APPLY: z
    .enum(["worker", "inline"])
    .optional()
    .describe("Where stored webhooks are applied: `worker`, a worker thread with its own small pool, so the main thread only acknowledges and serves GraphQL; `inline`, on the main thread (the default: with two cores, the thread's shorter acknowledgements cost push latency, see the apply thread in docs/benchmarks.md; with cores to spare, prefer `worker`). The embedded database (one connection, not shareable between threads) is always `inline`."),
  WEBHOOK_APPLY_LANES: int(1, 32)
    .default(4)
    .describe("Batches of webhooks applied at once, for different rooms (a room's events stay in order, one batch at a time). Another starts only when the newest has run 50 ms, so against a near database this changes nothing; against a far one (a round trip of 150 ms) the apply keeps up instead of waiting a whole batch behind the one running. Each takes a pooled connection while it runs: keep it well under DATABASE_POOL_MAX. The embedded database has one connection: always 1 there."),
  COMPLETION_GRACE_SECONDS: int(0, 3600)
    .default(120)
    .describe("After the room empties, an ACTIVE consultation becomes COMPLETED once nobody is back for this long."),
  RECONNECT_WINDOW_SECONDS: int(0, 600)
    .default(60)
    .describe("A side whose last connection dropped for a network reason (`websocket closed`, `ice connection state closed`, `network disconnection`) is RECONNECTING for this long, unless it rejoins or the session closes first; then offline. The Flutter SDK retries for 60 s."),
  RECONCILE_INTERVAL_SECONDS: int(0, 3600)
    .default(30)
    .describe("How often presence is checked against 100ms and overdue consultations are closed; 0 turns it off (failed webhook applies are retried by the queue itself either way)."),
  PRESCRIPTION_WINDOW_HOURS: int(0, 24 * 30)
    .default(24)
    .describe("How long after a call COMPLETED its doctor may still write prescriptions for it."),
  JOIN_EARLY_MINUTES: int(0, 24 * 60).default(15).describe("How long before the appointment a side may join."),
  JOIN_GRACE_MINUTES: int(0, 24 * 60)
    .default(60)
    .describe("How long after the appointment's booked end a side may still join (while not ACTIVE)."),
  ROOM_DURATION_SLACK_MINUTES: int(0, 12 * 60)
    .default(30)
    .describe("Added to the booked length for the room's max_duration_seconds (capped at 12 h)."),
  LEGACY_TOKEN_COLUMNS: bool
    .default(true)
    .describe("Also write join tokens to video_consultations.doctor_token/patient_token for older app versions."),
  GRAPHQL_MAX_DEPTH: int(2, 100).default(12).describe("Deepest selection a query may have (HTTP and WebSocket)."),
  GRAPHQL_MAX_ALIASES: int(0, 1000).default(15).describe("Most aliases in one operation, a fragment's counted at each spread."),
  GRAPHQL_MAX_COST: int(10, 10_000_000)
    .default(20_000)
    .describe(
      "Highest query cost: 1 per field, multiplied by each enclosing list's `first` as execution sees it (variables' defaults applied; MAX_PAGE_SIZE when it cannot be resolved; 10 for other lists).",
    ),
  GRAPHQL_MAX_TOKENS: int(50, 100_000).default(2_000).describe("Most lexical tokens in one document."),
  GRAPHQL_JIT: bool
    .default(true)
    .describe("Execute HTTP queries and mutations, and subscription events (WebSocket and SSE), with graphql-jit: each document compiled the second time it is executed (the 200 most recent kept per transport); off: graphql-js only. Same answers either way."),
  WS_CONNECTION_INIT_TIMEOUT_MS: int(100, 120_000)
    .default(10_000)
    .describe("A WebSocket that sends no connection_init within this is closed (4408)."),
  WS_MAX_SUBSCRIPTIONS_PER_SOCKET: int(1, 1000).default(20).describe("Concurrent subscriptions one socket may hold."),
  WS_MAX_SOCKETS_PER_USER: int(1, 1000).default(10).describe("Open WebSockets one user may hold; more are closed with 4429."),
  WS_PING_INTERVAL_MS: int(0, 600_000)
    .default(30_000)
    .describe("graphql-ws pings every socket this often and drops one that does not answer within the same time; 0 turns pings off."),
  STREAM_MAX_BUFFERED_BYTES: int(16 * 1024, 1024 ** 3)
    .default(1024 * 1024)
    .describe(
      "Most bytes a subscriber's socket may leave unread in this process: past it a WebSocket is closed with 4413 (its client resumes with `after`) and an SSE stream is cut. 1 MiB holds hundreds of frames, well above a healthy client's backlog.",
    ),
  SSE_MAX_STREAMS_PER_USER: int(1, 1000)
    .default(10)
    .describe("Open Server-Sent Event streams (/graphql/stream, one subscription each) one user may hold; more are answered 429."),
  REPLAY_MAX_EVENTS: int(0, 10_000_000)
    .default(10_000)
    .describe("Most events a subscription's `after` may replay; further back is refused (BAD_USER_INPUT, reason REPLAY_HORIZON)."),
  REPLAY_MAX_AGE_HOURS: int(1, 24 * 365)
    .default(24)
    .describe("Oldest event (by when it was logged) a replay may send; an older resume point is refused the same way."),
  REPLAY_MAX_CONCURRENT: int(1, 1000).default(4).describe("Replay pages read and sent at once in this process; more wait their turn."),
  REPLAY_MAX_CONCURRENT_PER_USER: int(1, 1000).default(1).describe("Replay pages one user may have in flight at once; more wait their turn."),
  SUBSCRIPTION_RECHECK_MS: int(100, 300_000)
    .default(15_000)
    .describe("How long an open subscription trusts its user's role before re-reading the users row; a change ends it (FORBIDDEN)."),
  RATE_LIMIT_STORE: z
    .enum(["memory", "postgres"])
    .default("memory")
    .describe("Where rate-limit counters live: this process, or PostgreSQL (shared by every instance)."),
  RATE_LIMIT_MUTATIONS_PER_MINUTE: int(1, 100_000)
    .default(30)
    .describe("Per user and mutation: startConsultation, joinConsultation, createPrescription."),
  RATE_LIMIT_ANONYMOUS_PER_MINUTE: int(1, 100_000).default(60).describe("Per client IP: requests without a valid token."),
  RATE_LIMIT_DENIALS_PER_MINUTE: int(1, 100_000)
    .default(30)
    .describe(
      "Per user, on every transport: refused attempts (another user's consultation, the wrong side, the wrong state) before every operation of that user answers RATE_LIMITED for the rest of the minute. Counted in each process.",
    ),
  RATE_LIMIT_WEBHOOK_FAILURES_PER_MINUTE: int(1, 100_000)
    .default(20)
    .describe("Per client IP: webhook authentication failures before 429."),
  CORS_ORIGINS: optionalString.describe(
    "Comma-separated browser origins allowed to call /graphql (e.g. `https://app.clinic.example`); absent: none.",
  ),
  DASHBOARD_ENABLED: bool.optional().describe("Serve the live dashboard at /dashboard. Default: on, except in production."),
  METRICS_TOKEN: optionalString.describe(
    "When set, GET /metrics requires `Authorization: Bearer <METRICS_TOKEN>`; absent: /metrics is open (keep it off the public network).",
  ),
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalString.describe(
    "OpenTelemetry traces over OTLP/HTTP to this collector (e.g. `http://otel-collector:4318`; or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). Absent: tracing is off and costs nothing. The SDK reads the other standard OTEL_* variables itself (OTEL_SERVICE_NAME, OTEL_TRACES_SAMPLER, OTEL_SDK_DISABLED, …): [docs/tracing.md](docs/tracing.md).",
  ),
  TRUST_PROXY: optionalString.describe(
    "Express `trust proxy` setting (e.g. `1` behind one proxy) so client IPs come from X-Forwarded-For; absent: the socket's address.",
  ),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000)
    .default(10_000)
    .describe("On SIGTERM, how long in-flight requests may take before sockets are destroyed."),
  ...partnerWebhookEnv,
});

export type Env = z.infer<typeof envSchema>;

/** Problems that involve more than one variable; empty when there are none. */
export function crossFieldErrors(e: Env): string[] {
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
  const hmsKeys = [e.HMS_ACCESS_KEY, e.HMS_APP_SECRET, e.HMS_TEMPLATE_ID];
  if (hmsKeys.some((v) => v !== undefined) && hmsKeys.some((v) => v === undefined)) {
    errors.push("HMS_ACCESS_KEY / HMS_APP_SECRET / HMS_TEMPLATE_ID: set all three, or none");
  }
  if (e.HMS_WEBHOOK_SECRET !== undefined && e.HMS_WEBHOOK_SECRET.length < 16) {
    errors.push("HMS_WEBHOOK_SECRET: must be at least 16 characters");
  }
  if (e.HMS_DOCTOR_ROLE === e.HMS_PATIENT_ROLE) {
    errors.push("HMS_DOCTOR_ROLE / HMS_PATIENT_ROLE: must differ");
  }
  if (e.WEBHOOK_APPLY === "worker" && embedded) {
    errors.push("WEBHOOK_APPLY: `worker` needs DATABASE_URL (the embedded database cannot be shared between threads)");
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

