/** Builds the repositories and services over one database; app.ts and tests call this. */
import { AuditWriter } from "./audit/audit-writer.js";
import { AuditRepo } from "./audit/audit.repo.js";
import { AuditQueries } from "./audit/audit.service.js";
import type { Viewer } from "./auth/viewer.js";
import { PrescriptionService } from "./prescriptions/prescription.service.js";
import type { HmsConfig, RateLimitConfig, StreamLimits, VideoPolicy } from "./config.js";
import { RateLimits } from "./rate-limit/rate-limits.js";
import { ConsultationCommands } from "./consultations/consultation-commands.service.js";
import { ConsultationService } from "./consultations/consultation.service.js";
import { VideoRooms } from "./consultations/video-rooms.js";
import type { Db } from "./db/client.js";
import type { EventHub } from "./live/event-hub.js";
import { ConsultationEventsService } from "./live/consultation-events.service.js";
import { LiveStatus } from "./live/live-status.service.js";
import { WebhookProcessor } from "./webhooks/webhook-processor.js";
import { WebhookIntake } from "./webhooks/webhook-intake.service.js";
import { WebhookQueue } from "./webhooks/webhook-queue.js";
import { WebhookRecovery } from "./webhooks/webhook-recovery.service.js";
import type { Logger } from "./logger.js";
import type { Metrics } from "./metrics.js";
import { createRepos, unitOfWork } from "./repos.js";

export interface ServiceOptions {
  metrics: Metrics;
  rateLimits: RateLimitConfig;
  maxPageSize: number;
  completionGraceSeconds: number;
  prescriptionWindowHours: number;
  /** The process's event hub (subscriptions); absent where nothing subscribes. */
  hub?: EventHub;
  hms: HmsConfig | null;
  video: VideoPolicy;
  /** Replay horizon, replay admission and rights re-check of subscriptions. */
  streams: StreamLimits;
  logger: Logger;
  /** Ask 100ms to replay failed webhook deliveries after an outage (HMS_WEBHOOK_REPLAY); default on. */
  webhookReplay?: boolean;
}

export function createServices(db: Db, options: ServiceOptions) {
  const repos = createRepos(db);
  const transaction = unitOfWork(db);
  const rooms = new VideoRooms(options.hms, options.video, options.logger, undefined, (call) =>
    options.metrics.hmsCalls.inc({ endpoint: call.endpoint, status: String(call.status ?? 0) }),
  );
  const audit = new AuditWriter(new AuditRepo(db), options.logger, { onFailure: () => options.metrics.auditWriteFailures.inc() });
  const live = new LiveStatus({ transaction, rooms, logger: options.logger, completionGraceSeconds: options.completionGraceSeconds });
  const webhooks = new WebhookQueue({
    processor: new WebhookProcessor({ db, consultations: repos.consultations, live, roles: options.video.roles }),
    db,
    logger: options.logger,
    onOutcome: (type, outcome) => options.metrics.webhooks.inc({ type: options.metrics.webhookType(type), outcome }),
    onBatch: (size) => options.metrics.webhookBatchSize.observe(size),
  });
  options.metrics.queuedWebhooks = () => webhooks.size;
  const webhookIntake = new WebhookIntake({
    db,
    queue: webhooks,
    logger: options.logger,
    count: (type, outcome) => options.metrics.webhooks.inc({ type: options.metrics.webhookType(type), outcome }),
  });
  const consultations = new ConsultationService(repos.consultations, options.maxPageSize, repos.eventLog);
  const hub = (): EventHub => {
    if (!options.hub) throw new Error("no event hub in this process");
    return options.hub;
  };
  /** The Viewer behind a token's `sub`, with the role from the users row; null if unknown. */
  const findViewer = async (userId: string): Promise<Viewer | null> => {
    const user = await repos.clinic.findUser(userId);
    return user && { userId: user.id, role: user.role, doctorId: user.doctorId, patientId: user.patientId };
  };
  return {
    metrics: options.metrics,
    audit,
    auditTrail: new AuditQueries(repos.audit, options.maxPageSize),
    rateLimits: new RateLimits(options.rateLimits, db),
    prescriptions: new PrescriptionService({
      transaction,
      consultations: repos.consultations,
      windowHours: options.prescriptionWindowHours,
    }),
    live,
    webhooks,
    webhookIntake,
    webhookRecovery: new WebhookRecovery({ api: rooms.client, db, logger: options.logger, enabled: options.webhookReplay ?? true }),
    hub,
    repos,
    rooms,
    maxPageSize: options.maxPageSize,
    consultations,
    consultationEvents: new ConsultationEventsService({
      repos,
      consultations,
      audit,
      metrics: options.metrics,
      hub,
      findViewer,
      limits: options.streams,
    }),
    commands: new ConsultationCommands({
      reads: repos.consultations,
      writes: repos.consultationWrites,
      transaction,
      clinic: repos.clinic,
      rooms,
      policy: options.video,
      audit: new AuditRepo(db),
    }),
    /** The signed-in user's own record. */
    me: async (viewer: Viewer) => {
      const user = await repos.clinic.findUser(viewer.userId);
      if (!user) throw new Error("the viewer's user row vanished");
      return user;
    },
    findViewer,
  };
}

export type Services = ReturnType<typeof createServices>;
