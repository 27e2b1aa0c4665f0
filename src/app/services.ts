/**
 * Builds the services (use cases) over one database: app.ts and tests call this. Services
 * compose repositories; resolvers and routes reach data only through them, and through the
 * per-request loaders they hand out.
 */
import { VisibleConsultations } from "../consultations/visible-consultations.js";
import { InboxRepo } from "../webhooks/inbox.repo.js";
import { withTimeout } from "../kit/timeout.js";
import { webhookTypeLabel } from "../webhooks/envelope.js";
import { createApplying, reportsTo, type Applying } from "./apply-services.js";
import { AuditWriter } from "../audit/audit-writer.js";
import { AuditQueries } from "../audit/audit.service.js";
import { Denials } from "../audit/denials.js";
import type { Viewer } from "../auth/viewer.js";
import type { HmsConfig, RateLimitConfig, StreamLimits, VideoPolicy } from "../config/config.js";
import { Users } from "../clinic/users.service.js";
import { ConsultationCommands } from "../consultations/consultation-commands.service.js";
import { ConsultationService } from "../consultations/consultation.service.js";
import { RunningLate } from "../consultations/running-late.service.js";
import { CallQualityReports } from "../consultations/call-quality.service.js";
import type { Database } from "../db/client.js";
import { ConsultationEventsService } from "../live/consultation-events.service.js";
import type { EventHub } from "../live/event-hub.js";
import { Reconciler } from "../webhooks/reconciler.js";
import { createLoaders } from "../live/loaders.js";
import { WebhookRecovery } from "../webhooks/webhook-recovery.service.js";
import type { Logger } from "../kit/logger.js";
import type { Metrics } from "../kit/metrics.js";
import { PrescriptionService } from "../prescriptions/prescription.service.js";
import { RateLimits } from "../rate-limit/rate-limits.js";
import { createRepos, unitOfWork, type Repos, type UnitOfWork } from "./repos.js";
import { WebhookIntake } from "../webhooks/webhook-intake.service.js";
import type { WebhookApplier } from "../webhooks/webhook-queue.js";
import type { PartnerWebhookConfig } from "../config/partner-webhooks.env.js";
import { partnerServices } from "../partners/partner-services.js";

export interface ServiceOptions {
  metrics: Metrics;
  rateLimits: RateLimitConfig;
  maxPageSize: number;
  completionGraceSeconds: number;
  reconnectWindowSeconds: number;
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
  /** Webhook batches applied at once, for different rooms (WEBHOOK_APPLY_LANES); default 1. */
  applyLanes?: number;
  /** Applies stored webhooks elsewhere (the apply thread); absent: this process's own queue does. */
  webhooks?: WebhookApplier;
  /** Outbound partner webhooks' settings; absent: endpoints cannot be created. */
  partnerWebhooks?: PartnerWebhookConfig;
}

interface Parts {
  database: Database;
  repos: Repos;
  transaction: UnitOfWork;
  options: ServiceOptions;
}

export function createServices(database: Database, options: ServiceOptions) {
  const parts: Parts = { database, repos: createRepos(database.db), transaction: unitOfWork(database.db), options };
  const { repos } = parts;
  const applying = createApplying(database, { ...options, applyLanes: options.applyLanes ?? 1, reports: reportsTo(options.metrics) });
  const { rooms } = applying;
  const audit = new AuditWriter(repos.audit, options.logger, { onFailure: () => options.metrics.auditWriteFailures.inc() });
  const consultations = new ConsultationService(repos.consultations, options.maxPageSize, repos.eventLog);
  const commands = new ConsultationCommands({
    reads: repos.consultations,
    writes: repos.consultationWrites,
    transaction: parts.transaction,
    clinic: repos.clinic,
    rooms,
    policy: options.video,
    audit: repos.audit,
    facts: repos.peerFacts,
    frontDesk: repos.frontDesk,
  });
  const live = liveServices(parts, applying, commands);
  const users = new Users(repos.clinic);
  const rateLimits = new RateLimits(options.rateLimits, database.db);
  const denials = new Denials(audit, rateLimits);
  return {
    metrics: options.metrics,
    audit,
    denials,
    auditTrail: new AuditQueries(repos.audit, options.maxPageSize),
    rateLimits,
    prescriptions: new PrescriptionService({ transaction: parts.transaction, windowHours: options.prescriptionWindowHours }),
    ...live,
    rooms,
    maxPageSize: options.maxPageSize,
    consultations,
    consultationEvents: new ConsultationEventsService({
      repos,
      consultations,
      audit,
      denials,
      metrics: options.metrics,
      hub: live.hub,
      findViewers: users.viewersOf,
      limits: options.streams,
    }),
    commands,
    runningLate: new RunningLate({ transaction: parts.transaction, legacyTokenMinter: (c) => commands.legacyTokenMinter(c) }),
    callQuality: new CallQualityReports({ transaction: parts.transaction }),
    /** Partner webhook endpoints and their delivery log (admins). */
    partners: partnerServices(database.db, { settings: options.partnerWebhooks, maxPageSize: options.maxPageSize }),
    /** Each request's (and subscription's) view of the consultations: scoped to the viewer, built once per request. */
    visibleTo: (viewer: Viewer) => new VisibleConsultations(viewer, repos.consultations, repos.consultationWrites),
    /** Fresh per-request DataLoaders (each request, and each subscription event, gets its own). */
    loaders: () => createLoaders(repos),
    users,
    findViewer: users.viewerOf,
  };
}

export type Services = ReturnType<typeof createServices>;

/** Webhooks in, presence and the lifecycle, the reconciler, and the event hub. */
function liveServices({ database, repos, options }: Parts, { rooms, live, queue }: Applying, commands: ConsultationCommands) {
  const { metrics, logger } = options;
  const webhooks: WebhookApplier = options.webhooks ?? queue;
  metrics.queuedWebhooks = () => webhooks.size;
  const inbox = new InboxRepo(database.db);
  metrics.inboxHealth = () => withTimeout(inbox.health(), 1_000);
  const webhookIntake = new WebhookIntake({
    db: database.db,
    queue: webhooks,
    logger,
    count: (type, outcome) => metrics.webhooks.inc({ type: webhookTypeLabel(type), outcome }),
  });
  const webhookRecovery = new WebhookRecovery({ api: rooms.client, db: database.db, logger, enabled: options.webhookReplay ?? true });
  const reconciler = new Reconciler({
    database,
    consultations: repos.consultations,
    live,
    rooms,
    commands,
    webhooks,
    recovery: webhookRecovery,
    policy: options.video,
    logger,
    onCorrections: (n) => metrics.reconcileCorrections.inc(n),
  });
  const hub = (): EventHub => {
    if (!options.hub) throw new Error("no event hub in this process");
    return options.hub;
  };
  return { live, webhooks, webhookIntake, webhookRecovery, reconciler, hub };
}
