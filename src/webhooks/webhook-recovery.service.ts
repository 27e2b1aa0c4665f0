/**
 * Recovery that asks 100ms instead of guessing. When we may have missed deliveries between two
 * moments (the API was down, or unreachable, or answered non-200 until 100ms gave up its
 * retries), 100ms still has them in its delivery log: we ask it to replay the failed ones for
 * that window, and the replayed webhooks (same envelope ids, so the inbox takes each once)
 * settle the record with 100ms's own times. Only when there is nothing to replay, or the
 * replay API cannot help (not allowed, rate limited, unavailable), does the reconciler fall
 * back to inferring from the active room, marked as inferred.
 *
 * Two triggers: at start (from the newest delivery received to now), and the reconciler, when
 * a room's active peers disagree with our presence (from the room's newest delivery to now).
 * State is in memory: a restart starts over from the inbox, which is enough because a replay
 * that is asked twice is deduplicated by 100ms (`already_running`) and by the inbox (ids).
 */
import type { Db } from "../db/client.js";
import { HmsApiError, REPLAYABLE_EVENTS, type ReplayProgress, type ReplayRequest, type ReplayStarted, type WebhookDeliveryPage, type WebhookDeliveryQuery } from "../hms/index.js";
import type { Logger } from "../kit/logger.js";
import { InboxRepo } from "./inbox.repo.js";

/** The part of the 100ms client recovery needs (HmsClient implements it). */
export interface WebhookLogApi {
  listWebhookDeliveries(query: WebhookDeliveryQuery): Promise<WebhookDeliveryPage>;
  replayWebhooks(request: ReplayRequest): Promise<ReplayStarted>;
  getWebhookReplay(workflowId: string): Promise<ReplayProgress>;
}

/** `replaying`: 100ms is re-sending what we missed, do not infer yet; `infer`: nothing better is coming. */
export type RecoveryVerdict = "replaying" | "infer";

/** "We may have missed deliveries between `from` and `to`", for one room or all (`roomId` absent). */
export interface DeliveryGap {
  from: Date;
  to: Date;
  roomId?: string;
}

export interface WebhookRecoveryDeps {
  /** Null when 100ms is not configured. */
  api: WebhookLogApi | null;
  db: Db;
  logger: Logger;
  /** HMS_WEBHOOK_REPLAY; off: always `infer`. */
  enabled: boolean;
  now?: () => Date;
}

interface PendingReplay {
  workflowId: string;
  /** Past this, a replay still "running" is given up on (10 events/s, plus slack). */
  deadline: number;
}

const ALL_ROOMS = "*";
/** Clocks differ and 100ms logs a failure after its retries: windows start this much earlier. */
const WINDOW_MARGIN_MS = 2 * 60_000;
/** 100ms's log: at most 14 days per query, kept 30 days. */
const MAX_WINDOW_MS = 14 * 86_400_000;
const REPLAY_RATE_PER_SECOND = 10;
const REPLAY_SLACK_MS = 60_000;

export class WebhookRecovery {
  readonly #pending = new Map<string, PendingReplay>();
  /** Per room (or ALL_ROOMS): the end of the last window asked about; later windows start there. */
  readonly #settled = new Map<string, Date>();
  readonly #inbox: InboxRepo;
  readonly #now: () => Date;
  #startup: Promise<unknown> = Promise.resolve();
  #rateLimitedUntil = 0;

  constructor(private readonly deps: WebhookRecoveryDeps) {
    this.#inbox = new InboxRepo(deps.db);
    this.#now = deps.now ?? (() => new Date());
  }

  get available(): boolean {
    return this.deps.enabled && this.deps.api !== null;
  }

  /**
   * At start: deliveries may have failed from the newest one received until now. With an
   * empty inbox there is no such point (webhooks were never set up, or this is a new
   * database), and nothing is asked. Never rejects; the reconciler waits for it.
   */
  recoverAtStart(): Promise<unknown> {
    if (!this.available) return this.#startup;
    this.#startup = (async () => {
      const last = await this.#inbox.lastReceivedAt();
      if (last) await this.recover({ from: last, to: this.#now() });
    })().catch((error: Error) => this.deps.logger.warn({ errorClass: error.name }, "webhook recovery at start failed"));
    return this.#startup;
  }

  /**
   * The reconciler found the room's active peers disagreeing with our presence: is a replay
   * of what we missed coming (do not infer yet), or is inference all there is?
   */
  async beforeInferring(roomId: string): Promise<RecoveryVerdict> {
    if (!this.available) return "infer";
    await this.#startup;
    if ((await this.#stillReplaying(ALL_ROOMS)) || (await this.#stillReplaying(roomId))) return "replaying";
    const last = await this.#inbox.lastReceivedAt(roomId);
    const settled = this.#settled.get(roomId);
    const from = [last, settled].reduce<Date | null>((a, b) => (b && (!a || b > a) ? b : a), null);
    return this.recover({ from: from ?? new Date(this.#now().getTime() - 86_400_000), to: this.#now(), roomId });
  }

  /** Asks 100ms to replay the failed deliveries of `gap`, if there are any; `replaying` when it does. */
  async recover(gap: DeliveryGap): Promise<RecoveryVerdict> {
    const api = this.deps.api;
    if (!this.available || !api || Date.now() < this.#rateLimitedUntil) return "infer";
    const key = gap.roomId ?? ALL_ROOMS;
    const window = this.#window(gap);
    try {
      const failed = await api.listWebhookDeliveries({ ...window, status: "failed", limit: 1 });
      this.#settled.set(key, gap.to);
      if (failed.totalItems === 0) return "infer";
      const started = await api.replayWebhooks({ ...window, status: "failed", eventNames: REPLAYABLE_EVENTS });
      const deadline = Date.now() + (failed.totalItems / REPLAY_RATE_PER_SECOND) * 1000 + REPLAY_SLACK_MS;
      this.#pending.set(key, { workflowId: started.workflowId, deadline });
      this.deps.logger.info({ failedDeliveries: failed.totalItems, workflowId: started.workflowId, scope: gap.roomId ? "room" : "all" }, "asked 100ms to replay failed webhook deliveries");
      return "replaying";
    } catch (error) {
      this.#failed(error);
      return "infer";
    }
  }

  /** Lets a recovery in progress finish its requests (they are bounded by the client's timeouts). */
  async stop(): Promise<void> {
    await this.#startup;
  }

  async #stillReplaying(key: string): Promise<boolean> {
    const pending = this.#pending.get(key);
    if (!pending) return false;
    if (Date.now() < pending.deadline) {
      try {
        const progress = await this.deps.api!.getWebhookReplay(pending.workflowId);
        if (progress.state === "running") return true;
        if (progress.state !== "completed") {
          this.deps.logger.warn({ workflowId: pending.workflowId, state: progress.state, failed: progress.failed }, "100ms webhook replay did not deliver everything");
        }
      } catch (error) {
        this.#failed(error);
      }
    }
    this.#pending.delete(key);
    return false;
  }

  /** The documented limits: start within 14 days of the end (and so within the 30 days kept). */
  #window(gap: DeliveryGap): { startTime: Date; endTime: Date; roomId?: string } {
    const end = gap.to.getTime();
    const start = Math.max(gap.from.getTime() - WINDOW_MARGIN_MS, end - MAX_WINDOW_MS + 60_000);
    return { startTime: new Date(Math.min(start, end)), endTime: new Date(end), ...(gap.roomId ? { roomId: gap.roomId } : {}) };
  }

  #failed(error: unknown): void {
    if (!(error instanceof HmsApiError)) {
      this.deps.logger.warn({ errorClass: (error as Error).name }, "webhook recovery failed; inferring from the active room");
      return;
    }
    if (error.status === 429) this.#rateLimitedUntil = Date.now() + (error.retryAfterSeconds ?? 60) * 1000;
    // 403: the management token may not use the analytics API (README, "Setting up 100ms").
    this.deps.logger.warn({ endpoint: error.endpoint, status: error.status }, "100ms webhook replay unavailable; inferring from the active room");
  }
}
