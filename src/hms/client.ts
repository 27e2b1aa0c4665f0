import { randomInt } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { HmsApiError, HmsNotConfiguredError } from "./errors.js";
import {
  httpError,
  parsePeers,
  parseRoom,
  readJson,
  transportError,
  withoutUndefined,
  type ApiResponse,
  type HmsActivePeer,
  type HmsRoom,
} from "./responses.js";
import { mintManagementToken } from "./tokens.js";
import * as log from "./webhook-log.js";
import { httpClientSpan } from "../kit/tracing.js";

export type { HmsActivePeer, HmsRoom } from "./responses.js";
import type { HmsCredentials, MintedToken } from "./tokens.js";

/** One HTTP attempt, reported after it finishes (retries are reported one by one). */
export interface HmsCall {
  endpoint: string;
  /** HTTP status, or null when no response arrived (network error or timeout). */
  status: number | null;
  durationMs: number;
}

export interface HmsClientOptions extends HmsCredentials {
  apiBaseUrl?: string;
  /** Per attempt, covering the response body too. */
  timeoutMs?: number;
  /** Extra attempts for idempotent calls after a network error, timeout, 429 or 5xx. */
  maxRetries?: number;
  /** Retry n waits between half and all of `retryBaseDelayMs * 2^n` (capped at 5 s). */
  retryBaseDelayMs?: number;
  fetch?: typeof fetch;
  /** Observer for logging/metrics; an exception thrown here is ignored. */
  onCall?: (call: HmsCall) => void;
}

export interface CreateRoomInput {
  /** Rooms are upserted by name (case-insensitive): an existing room is returned and updated. */
  name: string;
  description?: string;
  templateId?: string;
  region?: "eu" | "in" | "us" | "auto";
  size?: number;
  /** 120–43200; 100ms ends the session when it is reached. */
  maxDurationSeconds?: number;
  enabled?: boolean;
}

export interface RemovePeersInput {
  /** One of peerId/role is required; peerId wins, so only it is sent when given. */
  peerId?: string;
  role?: string;
  /** Shown to the removed peer and echoed as `message` in peer.leave.success. */
  reason: string;
}

interface ApiRequest {
  endpoint: string;
  method: "GET" | "POST";
  path: string;
  body?: Record<string, unknown>;
  /** May be sent again after it possibly reached 100ms. Default true: all but removePeers. */
  idempotent?: boolean;
  /** Answer 404 with a result instead of an error. */
  allowNotFound?: boolean;
}

const DEFAULT_API_BASE_URL = "https://api.100ms.live/v2";
const TOKEN_REFRESH_MARGIN_MS = 60_000;
const MAX_RETRY_DELAY_MS = 5_000;

/** Typed 100ms REST v2 client. Methods throw HmsApiError on any failure they do not map. */
export class HmsClient {
  readonly #options: Required<HmsClientOptions>;
  #token: MintedToken | null = null;

  constructor(options: HmsClientOptions) {
    const missing = (["accessKey", "appSecret"] as const).filter((key) => !options[key]);
    if (missing.length > 0) throw new HmsNotConfiguredError(missing);
    this.#options = {
      ...options,
      apiBaseUrl: (options.apiBaseUrl ?? DEFAULT_API_BASE_URL).replace(/\/+$/, ""),
      timeoutMs: options.timeoutMs ?? 5_000,
      maxRetries: options.maxRetries ?? 2,
      retryBaseDelayMs: options.retryBaseDelayMs ?? 100,
      fetch: options.fetch ?? globalThis.fetch,
      onCall: options.onCall ?? (() => {}),
    };
  }

  /**
   * Creates or updates the room with this name. `enabled` is not in 100ms's documented
   * create body, so it is applied with a follow-up setRoomEnabled when the result differs.
   */
  async createRoom(input: CreateRoomInput): Promise<HmsRoom> {
    const body = withoutUndefined({
      name: input.name,
      description: input.description,
      template_id: input.templateId,
      region: input.region,
      size: input.size,
      max_duration_seconds: input.maxDurationSeconds,
    });
    const room = parseRoom(await this.#send({ endpoint: "createRoom", method: "POST", path: "/rooms", body }));
    if (input.enabled === undefined || room.enabled === input.enabled) return room;
    return this.setRoomEnabled(room.id, input.enabled);
  }

  async getRoom(roomId: string): Promise<HmsRoom> {
    return parseRoom(await this.#send({ endpoint: "getRoom", method: "GET", path: roomPath(roomId) }));
  }

  /** Disabling blocks later joins only; it does not end a running session. */
  async setRoomEnabled(roomId: string, enabled: boolean): Promise<HmsRoom> {
    const path = roomPath(roomId);
    return parseRoom(await this.#send({ endpoint: "setRoomEnabled", method: "POST", path, body: { enabled } }));
  }

  /**
   * Ends the running session; `lock: true` also disables the room. `ended: false` means
   * 100ms answered 404: no session was active when the (last) attempt arrived, in which
   * case nothing was locked either — call setRoomEnabled(false) if the room must close.
   * Retrying is safe: ending an ended session only yields that 404, and lock is a
   * plain "set disabled", so a repeat cannot do anything the first attempt did not.
   */
  async endActiveRoom(roomId: string, input: { reason: string; lock: boolean }): Promise<{ ended: boolean }> {
    const path = activeRoomPath(roomId, "/end-room");
    const body = { reason: input.reason, lock: input.lock };
    const response = await this.#send({ endpoint: "endActiveRoom", method: "POST", path, body, allowNotFound: true });
    return { ended: response.status !== 404 };
  }

  /** Peers connected right now (optionally filtered); [] when the room has no active session. */
  async listActivePeers(roomId: string, filter: { userId?: string; role?: string } = {}): Promise<HmsActivePeer[]> {
    const query = new URLSearchParams(withoutUndefined({ user_id: filter.userId, role: filter.role })).toString();
    const path = activeRoomPath(roomId, query ? `/peers?${query}` : "/peers");
    const response = await this.#send({ endpoint: "listActivePeers", method: "GET", path, allowNotFound: true });
    return response.status === 404 ? [] : parsePeers(response.body);
  }

  /**
   * Asks 100ms to kick peers; the leave itself arrives later as peer.leave.success.
   * Not retried after it may have reached 100ms (only the 401/403 token refresh).
   */
  async removePeers(roomId: string, input: RemovePeersInput): Promise<void> {
    if (!input.peerId && !input.role) throw new TypeError("removePeers needs a peerId or a role");
    const target = input.peerId ? { peer_id: input.peerId } : { role: input.role };
    const path = activeRoomPath(roomId, "/remove-peers");
    const body = { ...target, reason: input.reason };
    await this.#send({ endpoint: "removePeers", method: "POST", path, body, idempotent: false });
  }

  /** One page of 100ms's webhook delivery log (kept 30 days). 429s carry `retryAfterSeconds`. */
  async listWebhookDeliveries(query: log.WebhookDeliveryQuery = {}): Promise<log.WebhookDeliveryPage> {
    return log.parseDeliveryPage(await this.#send({ endpoint: "listWebhookDeliveries", method: "GET", path: log.deliveriesPath(query) }));
  }

  /** Asks 100ms to re-send logged deliveries; an identical request while one runs reuses it, so a retry is safe. */
  async replayWebhooks(request: log.ReplayRequest): Promise<log.ReplayStarted> {
    const body = log.replayBody(request);
    return log.parseReplayStarted(await this.#send({ endpoint: "replayWebhooks", method: "POST", path: "/analytics/webhooks/replay", body }));
  }

  async getWebhookReplay(workflowId: string): Promise<log.ReplayProgress> {
    const path = `/analytics/webhooks/replay/${encodeURIComponent(workflowId)}`;
    return log.parseReplayProgress(await this.#send({ endpoint: "getWebhookReplay", method: "GET", path }));
  }

  /** Retries: once with a fresh token on 401/403; transient failures only when idempotent (a 429 with a long hint: never). */
  async #send(request: ApiRequest): Promise<ApiResponse> {
    let tokenRefreshed = false;
    for (let retries = 0; ; ) {
      const result = await this.#attempt(request);
      if (!(result instanceof HmsApiError)) return result;
      if ((result.status === 401 || result.status === 403) && !tokenRefreshed) {
        tokenRefreshed = true;
        this.#token = null;
        continue;
      }
      if (!result.retriable || request.idempotent === false || retries >= this.#options.maxRetries) throw result;
      const hintMs = (result.retryAfterSeconds ?? 0) * 1000;
      if (hintMs > MAX_RETRY_DELAY_MS) throw result;
      await sleep(Math.max(hintMs, this.#backoffMs(retries)));
      retries += 1;
    }
  }

  async #attempt(request: ApiRequest): Promise<ApiResponse | HmsApiError> {
    const { apiBaseUrl, timeoutMs } = this.#options;
    const token = await this.#managementToken();
    const started = performance.now();
    let status: number | null = null;
    try {
      const response = await httpClientSpan(request.method, request.endpoint, apiBaseUrl, () => this.#options.fetch(`${apiBaseUrl}${request.path}`, {
        method: request.method,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json", accept: "application/json" },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: AbortSignal.timeout(timeoutMs),
      }));
      const body = await readJson(response);
      status = response.status;
      if (!response.ok && !(status === 404 && request.allowNotFound)) {
        return httpError(request.endpoint, status, body, response.headers.get("retry-after"));
      }
      return { endpoint: request.endpoint, status, body };
    } catch (error) {
      return transportError(request.endpoint, error, timeoutMs);
    } finally {
      this.#report({ endpoint: request.endpoint, status, durationMs: performance.now() - started });
    }
  }

  async #managementToken(): Promise<string> {
    const remainingMs = this.#token ? this.#token.expiresAt.getTime() - Date.now() : 0;
    if (!this.#token || remainingMs < TOKEN_REFRESH_MARGIN_MS) {
      this.#token = await mintManagementToken(this.#options);
    }
    return this.#token.token;
  }

  #backoffMs(retry: number): number {
    const ceiling = Math.min(this.#options.retryBaseDelayMs * 2 ** retry, MAX_RETRY_DELAY_MS);
    const half = Math.floor(ceiling / 2);
    return half + randomInt(ceiling - half + 1);
  }

  #report(call: HmsCall): void {
    try {
      this.#options.onCall(call);
    } catch {
      // An observer's failure must not change the outcome of the call.
    }
  }
}

function roomPath(roomId: string): string {
  return `/rooms/${encodeURIComponent(roomId)}`;
}

function activeRoomPath(roomId: string, action: string): string {
  return `/active-rooms/${encodeURIComponent(roomId)}${action}`;
}

