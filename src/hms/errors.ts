/**
 * A failed call to the 100ms REST API, after the client's own retries.
 * The message names the endpoint and status only: never a token, the secret, a URL
 * with ids, or a request body. Callers map it to UPSTREAM_UNAVAILABLE (or similar);
 * `code`/`hmsMessage` are for logs, not for API clients.
 */
export class HmsApiError extends Error {
  override readonly name = "HmsApiError";
  /** HTTP status, or null when no response arrived (network error or timeout). */
  readonly status: number | null;
  /** Short operation name such as "createRoom". */
  readonly endpoint: string;
  /** True when the same call may succeed later (network, timeout, 5xx, 429). */
  readonly retriable: boolean;
  /** `code` from 100ms's error body `{ code, message, details }`, when present. */
  readonly code: number | null;
  /** `message` from 100ms's error body, when present. */
  readonly hmsMessage: string | null;
  /** A 429's hint ("retry after 45 seconds", or a Retry-After header), when given. */
  readonly retryAfterSeconds: number | null;

  constructor(init: {
    endpoint: string;
    status: number | null;
    retriable: boolean;
    code?: number | null;
    hmsMessage?: string | null;
    retryAfterSeconds?: number | null;
    reason?: string;
    cause?: unknown;
  }) {
    super(describe(init), init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.endpoint = init.endpoint;
    this.retriable = init.retriable;
    this.code = init.code ?? null;
    this.hmsMessage = init.hmsMessage ?? null;
    this.retryAfterSeconds = init.retryAfterSeconds ?? null;
  }
}

/** 100ms is not usable because the access key or app secret is missing. */
export class HmsNotConfiguredError extends Error {
  override readonly name = "HmsNotConfiguredError";

  constructor(missing: readonly string[]) {
    super(`100ms is not configured: missing ${missing.join(", ")}`);
  }
}

function describe(init: {
  endpoint: string;
  status: number | null;
  hmsMessage?: string | null;
  reason?: string;
}): string {
  const outcome = init.status === null ? (init.reason ?? "no response") : `HTTP ${init.status}`;
  const detail = init.hmsMessage ? `: ${init.hmsMessage.slice(0, 200)}` : "";
  return `100ms ${init.endpoint} failed (${outcome})${detail}`;
}
