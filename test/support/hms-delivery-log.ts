import { randomUUID } from "node:crypto";
import type { HmsWebhook } from "./hms-webhooks.js";

/**
 * The stand-in's webhook delivery log and replay (reference §4.1): every delivery that ended
 * (200, or its last retry failed) is logged; `GET /v2/analytics/webhooks` lists them with
 * `page`/`limit` paging, and `POST /v2/analytics/webhooks/replay` re-sends the matching ones
 * at 10 events/s with `is_replay: true` and the same envelope ids. An identical replay request
 * while one runs answers `already_running` with the same workflow. A failed delivery stays
 * listed as failed after a replay (100ms does not say otherwise).
 */
export interface LoggedDelivery {
  event: HmsWebhook;
  failed: boolean;
  /** Date.now() when the delivery ended. */
  at: number;
  errorReason: string | null;
}

interface Reply {
  status: number;
  body: unknown;
}

interface Workflow {
  id: string;
  key: string;
  filters: Record<string, unknown>;
  state: "Running" | "completed" | "completed_with_failures";
  startedAt: Date;
  completedAt: Date | null;
  total: number;
  completed: number;
  failedIds: string[];
}

const REPLAY_INTERVAL_MS = 100; // 10 events/s
const DAY_MS = 86_400_000;

export class DeliveryLog {
  readonly entries: LoggedDelivery[] = [];
  readonly #workflows = new Map<string, Workflow>();
  #closed = false;

  /** `send` posts one body to the configured URL; null for a network error. */
  constructor(private readonly send: (event: HmsWebhook & { is_replay: true }) => Promise<number | null>) {}

  record(event: HmsWebhook, status: number | null): void {
    const failed = status !== 200;
    this.entries.push({ event, failed, at: Date.now(), errorReason: failed ? (status === null ? "timeout" : `http ${status}`) : null });
  }

  close(): void {
    this.#closed = true;
  }

  /** Answers an /v2/analytics/… request, or null when the path is not one of these. */
  route(method: string, parts: string[], query: URLSearchParams, body: Record<string, unknown>): Reply | null {
    const path = parts.join("/");
    if (method === "GET" && path === "webhooks") return this.#list(query);
    if (method === "POST" && path === "webhooks/replay") return this.#replay(body);
    if (method === "GET" && parts.length === 3 && path.startsWith("webhooks/replay/")) return this.#status(parts[2]!);
    return null;
  }

  #list(query: URLSearchParams): Reply {
    const now = Date.now();
    const start = query.has("start_time") ? Date.parse(query.get("start_time")!) : now - DAY_MS;
    const end = query.has("end_time") ? Date.parse(query.get("end_time")!) : now;
    const limit = Number(query.get("limit") ?? 50);
    const page = Number(query.get("page") ?? 1);
    const problem = rangeProblem(start, end, now) ??
      (!Number.isInteger(limit) || limit < 1 || limit > 100 ? "limit must be 1-100" : null) ??
      (!Number.isInteger(page) || page < 1 ? "page must be 1 or more" : null);
    if (problem) return failure(400, "Invalid query param", [problem]);
    const matches = this.#matching({ start, end, roomId: query.get("room_id"), status: query.get("status") ?? "all",
      names: query.getAll("event_names") });
    const totalPages = Math.max(1, Math.ceil(matches.length / limit));
    const events = matches.slice((page - 1) * limit, page * limit).map(deliveryJson);
    return { status: 200, body: {
      events,
      pagination: { current_page: page, page_size: limit, total_pages: totalPages, total_items: matches.length,
        has_next: page < totalPages, has_prev: page > 1 },
      summary: { total_events: matches.length },
    } };
  }

  #replay(body: Record<string, unknown>): Reply {
    const start = typeof body.start_time === "string" ? Date.parse(body.start_time) : NaN;
    const end = typeof body.end_time === "string" ? Date.parse(body.end_time) : NaN;
    const limit = body.limit === undefined ? 50_000 : Number(body.limit);
    const offset = body.offset === undefined ? 0 : Number(body.offset);
    const problem = rangeProblem(start, end, Date.now()) ?? (!(limit >= 1 && limit <= 50_000) ? "limit must be 1-50000" : null);
    if (problem) return failure(400, "Invalid body param", [problem]);
    const names = Array.isArray(body.event_names) ? body.event_names.map(String) : [];
    const roomId = typeof body.room_id === "string" ? body.room_id : null;
    const status = typeof body.status === "string" ? body.status : "failed";
    const filters = { start_time: body.start_time, end_time: body.end_time, room_id: roomId ?? undefined, event_types: names };
    const key = JSON.stringify({ start, end, roomId, names, status, limit, offset });
    const running = [...this.#workflows.values()].find((w) => w.key === key && w.state === "Running");
    if (running) return replayStarted(running, "already_running");
    const events = this.#matching({ start, end, roomId, status, names }).slice(offset, offset + limit).map((d) => d.event);
    const workflow: Workflow = { id: randomUUID(), key, filters, state: "Running", startedAt: new Date(), completedAt: null,
      total: events.length, completed: 0, failedIds: [] };
    this.#workflows.set(workflow.id, workflow);
    void this.#run(workflow, events);
    return replayStarted(workflow, "started");
  }

  async #run(workflow: Workflow, events: HmsWebhook[]): Promise<void> {
    for (const event of events) {
      await new Promise((resolve) => setTimeout(resolve, REPLAY_INTERVAL_MS));
      if (this.#closed) return;
      const status = await this.send({ ...event, is_replay: true });
      if (status === 200) workflow.completed += 1;
      else workflow.failedIds.push(event.id);
    }
    workflow.state = workflow.failedIds.length > 0 ? "completed_with_failures" : "completed";
    workflow.completedAt = new Date();
  }

  #status(id: string): Reply {
    const w = this.#workflows.get(id);
    if (!w) return failure(404, "workflow not found");
    return { status: 200, body: {
      workflow_id: w.id, status: w.state, started_at: w.startedAt.toISOString(), completed_at: w.completedAt?.toISOString() ?? null,
      filters: w.filters, progress: { total: w.total, completed: w.completed, failed: w.failedIds.length },
      result: { total: w.total, completed: w.completed, failed_events: [...w.failedIds] },
    } };
  }

  #matching(f: { start: number; end: number; roomId: string | null; status: string; names: string[] }): LoggedDelivery[] {
    return this.entries.filter((d) =>
      d.at >= f.start && d.at <= f.end &&
      (f.roomId === null || d.event.data.room_id === f.roomId) &&
      (f.status === "all" || (f.status === "failed") === d.failed) &&
      (f.names.length === 0 || f.names.includes(d.event.type)));
  }
}

/** The documented limits: start within 30 days, end after start and within 14 days of it. */
function rangeProblem(start: number, end: number, now: number): string | null {
  if (Number.isNaN(start) || Number.isNaN(end)) return "start_time and end_time must be RFC 3339 times";
  if (start < now - 30 * DAY_MS) return "start_time must be within the last 30 days";
  if (end < start) return "end_time must not be before start_time";
  if (end - start > 14 * DAY_MS) return "end_time must be within 14 days of start_time";
  return null;
}

function deliveryJson(d: LoggedDelivery): Record<string, unknown> {
  const data = d.event.data as unknown as Record<string, unknown>;
  return {
    event_id: d.event.id,
    event_name: d.failed ? "reporter.webhook.delivery.failed" : "reporter.webhook.delivery.success",
    room_id: data.room_id,
    event_timestamp: new Date(d.at).toISOString(),
    payload: {
      event_data: { session_id: data.session_id ?? "", peer_id: data.peer_id ?? "", user_id: data.user_id ?? "" },
      webhook_url: "(configured)",
      original_event_name: d.event.type,
      ...(d.failed ? { error_reason: d.errorReason } : {}),
    },
  };
}

function replayStarted(w: Workflow, status: "started" | "already_running"): Reply {
  const message = status === "started" ? "replay started" : "an identical replay is already running";
  return { status: 200, body: { workflow_id: w.id, status, message, filters: w.filters } };
}

const failure = (code: number, message: string, details: string[] = []): Reply => ({ status: code, body: { code, message, details } });
