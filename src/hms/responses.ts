/**
 * Reading 100ms REST answers: bodies are parsed defensively (100ms documents several fields
 * loosely), errors are classified as retriable or not, and times follow one rule.
 */
import { HmsApiError } from "./errors.js";

/** An HTTP answer from 100ms, with its body parsed as JSON (null when it was not JSON). */
export interface ApiResponse {
  endpoint: string;
  status: number;
  body: unknown;
}

export interface HmsRoom {
  id: string;
  name: string;
  enabled: boolean;
  /** Null only if 100ms left `template_id` out of the response. */
  templateId: string | null;
  size?: number;
  maxDurationSeconds?: number;
  /** Null when 100ms sent the Go zero time or an unparsable value. */
  createdAt?: Date | null;
}

export interface HmsActivePeer {
  /** New on every join; our stable id is `userId`. */
  peerId: string;
  userId: string | null;
  role: string;
  name: string;
  joinedAt: Date | null;
}

export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? (JSON.parse(text) as unknown) : null;
  } catch {
    return null; // e.g. an HTML error page from a proxy
  }
}

export function httpError(endpoint: string, status: number, body: unknown, retryAfterHeader: string | null = null): HmsApiError {
  const fields = asRecord(body);
  const hmsMessage = typeof fields.message === "string" ? fields.message : null;
  return new HmsApiError({
    endpoint,
    status,
    // General REST rate limits are not confirmed; a 429 is read as "try again later".
    retriable: status >= 500 || status === 429,
    code: typeof fields.code === "number" ? fields.code : null,
    hmsMessage,
    retryAfterSeconds: status === 429 ? retryAfter(hmsMessage, retryAfterHeader) : null,
  });
}

/** The webhook-analytics 429 says "rate limit exceeded, retry after 45 seconds". */
function retryAfter(message: string | null, header: string | null): number | null {
  const seconds = Number(header ?? /retry after (\d+) seconds?/i.exec(message ?? "")?.[1] ?? NaN);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}

export function transportError(endpoint: string, error: unknown, timeoutMs: number): HmsApiError {
  const timedOut = error instanceof Error && error.name === "TimeoutError";
  const reason = timedOut ? `timed out after ${timeoutMs} ms` : "network error";
  return new HmsApiError({ endpoint, status: null, retriable: true, reason, cause: error });
}

export function parseRoom({ endpoint, status, body }: ApiResponse): HmsRoom {
  const room = asRecord(body);
  if (typeof room.id !== "string" || typeof room.name !== "string" || typeof room.enabled !== "boolean") {
    throw new HmsApiError({ endpoint, status, retriable: false, reason: "unexpected response body" });
  }
  const { id, name, enabled } = room;
  const size = numberOrUndefined(room.size);
  const maxDurationSeconds = numberOrUndefined(room.max_duration_seconds);
  const createdAt = room.created_at === undefined ? undefined : (parseHmsTime(room.created_at) ?? null);
  return { id, name, enabled, templateId: stringOr(room.template_id, null), size, maxDurationSeconds, createdAt };
}

/** Documented as `{ peers: { "<peer_id>": peer } }`; an array is accepted too, defensively. */
export function parsePeers(body: unknown): HmsActivePeer[] {
  const peers = asRecord(body).peers;
  const entries: Array<[string | undefined, unknown]> = Array.isArray(peers)
    ? peers.map((peer: unknown) => [undefined, peer])
    : Object.entries(asRecord(peers));
  return entries.flatMap(([key, value]) => {
    const peer = asRecord(value);
    const peerId = stringOr(peer.id, key);
    if (!peerId) return [];
    const [userId, role, name] = [stringOr(peer.user_id, null), stringOr(peer.role, ""), stringOr(peer.name, "")];
    return [{ peerId, userId, role, name, joinedAt: parseHmsTime(peer.joined_at) ?? null }];
  });
}

/**
 * 100ms times are RFC 3339; the Go zero time ("0001-01-01T00:00:00Z") means "not set".
 * Null for "not set" (absent or zero), undefined for anything that is not a time.
 */
export function parseHmsTime(value: unknown): Date | null | undefined {
  if (value === null || value === undefined || value === "") return null;
  if (typeof value !== "string") return undefined;
  if (value.startsWith("0001-01-01")) return null;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

export function stringOr<T>(value: unknown, fallback: T): string | T {
  return typeof value === "string" ? value : fallback;
}

export function numberOrUndefined(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

export function asRecord(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export type Defined<T> = { [K in keyof T]: Exclude<T[K], undefined> };

export function withoutUndefined<T extends Record<string, unknown>>(record: T): Defined<T> {
  return Object.fromEntries(Object.entries(record).filter(([, v]) => v !== undefined)) as never;
}
