/**
 * 100ms's webhook delivery log and replay (100ms API reference, "List Webhook Events"
 * and "Replay Webhook Events"): request shapes and lenient readers of the answers. 100ms keeps the log for
 * 30 days; a replay re-sends the matching deliveries to the configured URL at 10 events/s with
 * `is_replay: true` and the same envelope ids.
 */
import { HmsApiError } from "./errors.js";
import { asRecord, parseHmsTime, stringOr, withoutUndefined, type ApiResponse } from "./responses.js";

export type DeliveryStatus = "all" | "failed" | "success";

export interface WebhookDeliveryQuery {
  /** Default 24 h ago; within the last 30 days. */
  startTime?: Date;
  /** Default now; within 14 days of startTime. */
  endTime?: Date;
  roomId?: string;
  /** Default `all`. */
  status?: DeliveryStatus;
  eventNames?: readonly string[];
  /** 1–100, default 50. */
  limit?: number;
  /** From 1. */
  page?: number;
}

/** One logged delivery attempt. */
export interface WebhookDelivery {
  eventId: string;
  /** `reporter.webhook.delivery.failed` or a success name. */
  eventName: string;
  /** The webhook's own type, e.g. `peer.leave.success`. */
  originalEventName: string | null;
  roomId: string | null;
  sessionId: string | null;
  at: Date | null;
  /** Failed deliveries only, e.g. "timeout". */
  errorReason: string | null;
}

export interface WebhookDeliveryPage {
  deliveries: WebhookDelivery[];
  page: number;
  totalPages: number;
  totalItems: number;
  hasNext: boolean;
}

export interface ReplayRequest {
  startTime: Date;
  endTime: Date;
  roomId?: string;
  eventNames?: readonly string[];
  /** At most 50 000. */
  limit?: number;
  offset?: number;
  /** Default `failed`. */
  status?: DeliveryStatus;
}

export interface ReplayStarted {
  workflowId: string;
  /** `already_running`: an identical request is running; its workflow is reused. */
  status: "started" | "already_running";
}

export type ReplayState = "running" | "completed" | "completed_with_failures" | "failed" | "canceled" | "terminated";

export interface ReplayProgress {
  workflowId: string;
  state: ReplayState;
  total: number;
  completed: number;
  failed: number;
  /** Envelope ids 100ms could not deliver during the replay. */
  failedEventIds: string[];
}

/** The event types 100ms lists as replayable. */
export const REPLAYABLE_EVENTS = ["session.open.success", "session.close.success", "peer.join.success", "peer.leave.success"];

export function deliveriesPath(query: WebhookDeliveryQuery): string {
  const params = new URLSearchParams(
    withoutUndefined({
      start_time: query.startTime?.toISOString(),
      end_time: query.endTime?.toISOString(),
      room_id: query.roomId,
      status: query.status,
      limit: query.limit === undefined ? undefined : String(query.limit),
      page: query.page === undefined ? undefined : String(query.page),
    }),
  );
  for (const name of query.eventNames ?? []) params.append("event_names", name);
  const text = params.toString();
  return text ? `/analytics/webhooks?${text}` : "/analytics/webhooks";
}

export function replayBody(request: ReplayRequest): Record<string, unknown> {
  return withoutUndefined({
    start_time: request.startTime.toISOString(),
    end_time: request.endTime.toISOString(),
    room_id: request.roomId,
    event_names: request.eventNames ? [...request.eventNames] : undefined,
    limit: request.limit,
    offset: request.offset,
    status: request.status ?? "failed",
  });
}

export function parseDeliveryPage({ endpoint, status, body }: ApiResponse): WebhookDeliveryPage {
  const fields = asRecord(body);
  if (!Array.isArray(fields.events)) throw unexpected(endpoint, status);
  const pagination = asRecord(fields.pagination);
  const deliveries = fields.events.flatMap((value: unknown) => {
    const event = asRecord(value);
    const payload = asRecord(event.payload);
    const data = asRecord(payload.event_data);
    const eventId = stringOr(event.event_id, null);
    if (!eventId) return [];
    return [{
      eventId,
      eventName: stringOr(event.event_name, ""),
      originalEventName: stringOr(payload.original_event_name, null),
      roomId: stringOr(event.room_id, null),
      sessionId: stringOr(data.session_id, null),
      at: parseHmsTime(event.event_timestamp) ?? null,
      errorReason: stringOr(payload.error_reason, null),
    }];
  });
  const int = (value: unknown, fallback: number) => (typeof value === "number" && Number.isFinite(value) ? value : fallback);
  return {
    deliveries,
    page: int(pagination.current_page, 1),
    totalPages: int(pagination.total_pages, 1),
    totalItems: int(pagination.total_items, deliveries.length),
    hasNext: pagination.has_next === true,
  };
}

export function parseReplayStarted({ endpoint, status, body }: ApiResponse): ReplayStarted {
  const fields = asRecord(body);
  const workflowId = stringOr(fields.workflow_id, "");
  if (!workflowId) throw unexpected(endpoint, status);
  return { workflowId, status: fields.status === "already_running" ? "already_running" : "started" };
}

/** 100ms spells states in mixed case ("Running", "completed", "Canceled"); unknown ones read as running. */
export function parseReplayProgress({ endpoint, status, body }: ApiResponse): ReplayProgress {
  const fields = asRecord(body);
  const workflowId = stringOr(fields.workflow_id, "");
  if (!workflowId) throw unexpected(endpoint, status);
  const state = stringOr(fields.status, "").toLowerCase();
  const known: ReplayState[] = ["completed", "completed_with_failures", "failed", "canceled", "terminated"];
  const progress = asRecord(fields.progress);
  const count = (value: unknown) => (typeof value === "number" ? value : 0);
  const failedIds = asRecord(fields.result).failed_events;
  return {
    workflowId,
    state: known.find((k) => k === state) ?? "running",
    total: count(progress.total),
    completed: count(progress.completed),
    failed: count(progress.failed),
    failedEventIds: Array.isArray(failedIds) ? failedIds.filter((id): id is string => typeof id === "string") : [],
  };
}

function unexpected(endpoint: string, status: number): HmsApiError {
  return new HmsApiError({ endpoint, status, retriable: false, reason: "unexpected response body" });
}
