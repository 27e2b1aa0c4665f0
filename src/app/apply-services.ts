/**
 * What applies stored webhooks, built in one place for both places it runs: the services
 * build it for their own use (the reconciler, and the queue when webhooks are applied
 * inline), and the apply thread builds it on its own pool (app/apply-thread.ts).
 */
import { webhookTypeLabel } from "../webhooks/envelope.js";
import type { Config, HmsConfig, VideoPolicy } from "../config/config.js";
import { VideoRooms } from "../consultations/video-rooms.js";
import type { Database } from "../db/client.js";
import type { HmsCall } from "../hms/client.js";
import { LiveStatus } from "../live/live-status.service.js";
import type { Logger } from "../kit/logger.js";
import type { Metrics } from "../kit/metrics.js";
import { createRepos, unitOfWork } from "./repos.js";
import type { ProcessOutcome } from "../webhooks/webhook-processor.js";
import { WebhookProcessor } from "../webhooks/webhook-processor.js";
import { WebhookQueue } from "../webhooks/webhook-queue.js";

/** What applying webhooks reports for /metrics; the apply thread forwards the same calls. */
export interface ApplyReports {
  outcome(type: string, outcome: ProcessOutcome | "failed"): void;
  batch(size: number): void;
  hmsCall(call: HmsCall): void;
}

export interface ApplyOptions {
  hms: HmsConfig | null;
  video: VideoPolicy;
  completionGraceSeconds: number;
  reconnectWindowSeconds: number;
  /** Batches applied at once, for different rooms (webhook-queue.ts). */
  applyLanes: number;
  logger: Logger;
  reports: ApplyReports;
}

export function reportsTo(metrics: Metrics): ApplyReports {
  return {
    outcome: (type, outcome) => metrics.webhooks.inc({ type: webhookTypeLabel(type), outcome }),
    batch: (size) => metrics.webhookBatchSize.observe(size),
    hmsCall: (call) => metrics.hmsCalls.inc({ endpoint: call.endpoint, status: String(call.status ?? 0) }),
  };
}

/** The part of the configuration that applying reads. */
export function applySettings(config: Config): Omit<ApplyOptions, "logger" | "reports"> {
  const { hms, video, completionGraceSeconds, reconnectWindowSeconds } = config;
  return { hms, video, completionGraceSeconds, reconnectWindowSeconds, applyLanes: config.webhooks.applyLanes };
}

/**
 * The 100ms rooms (a completed consultation's room is disabled), LiveStatus with its
 * completion timers, and the queue that applies stored webhooks in batches through them.
 */
export function createApplying(database: Database, options: ApplyOptions) {
  const { logger, reports } = options;
  const rooms = new VideoRooms(options.hms, options.video, logger, undefined, reports.hmsCall);
  const live = new LiveStatus({
    // Its transactions read tables that grow with every webhook: planned on each run (db/client.ts `planEachRun`).
    transaction: unitOfWork(database.db, { planEachRun: true }),
    rooms,
    logger,
    completionGraceSeconds: options.completionGraceSeconds,
    reconnectWindowSeconds: options.reconnectWindowSeconds,
    commitBehindWrites: database.kind === "postgres",
  });
  const queue = new WebhookQueue({
    processor: new WebhookProcessor({
      db: database.db,
      consultations: createRepos(database.db).consultations,
      live,
      roles: options.video.roles,
      readBesideBegin: database.kind === "postgres",
    }),
    db: database.db,
    logger,
    onOutcome: reports.outcome,
    onBatch: reports.batch,
    lanes: options.applyLanes,
  });
  return { rooms, live, queue };
}

export type Applying = ReturnType<typeof createApplying>;
