/**
 * Composition: config -> database (migrated) -> auth -> services -> schema -> HTTP server.
 * main.ts runs this for the process; tests run it in-process against their own database.
 */
import { createTokenVerifier } from "../auth/token-verifier.js";
import type { Config } from "../config/config.js";
import { openDatabase, type Database } from "../db/client.js";
import { migrateDatabase } from "../db/migrate.js";
import { demoBanner } from "../demo/demo-banner.js";
import { demoSecret, ensureDemoClinic, isDemoMode, type DemoClinic } from "../demo/demo-clinic.js";
import { buildApiSchema } from "./schema.js";
import type { Logger } from "../kit/logger.js";
import { createApiServer } from "./server.js";
import type { RequestPipeline } from "../transport/request-pipeline.js";
import { createServices, type Services } from "./services.js";
import { EventHub } from "../live/event-hub.js";
import { Metrics } from "../kit/metrics.js";
import type { Reconciler } from "../webhooks/reconciler.js";
import { reportsTo } from "./apply-services.js";
import { ApplyWorker } from "./apply-worker.js";
import type { Tracing } from "./tracing.js";
import { PartnerDispatcher } from "../partners/partner-dispatcher.js";

export interface RunningApi {
  url: string;
  database: Database;
  /** The demo banner (URL, tokens, sample query) when the embedded demo is active. */
  demoBanner: string | null;
  /** The demo clinic and its generated secret, when the embedded demo is active. */
  demo: { secret: string; clinic: DemoClinic | null } | null;
  services: Services;
  reconciler: Reconciler;
  /** WebSockets open now. */
  openSockets(): number;
  /** The request pipeline every transport hands its requests to. */
  pipeline: RequestPipeline;
  /** Sends partner webhooks from the event log. */
  partners: PartnerDispatcher;
  /** Graceful: stop accepting, finish in-flight work, then close the database (when owned). */
  stop(): Promise<void>;
}

export interface StartApiOptions {
  /** Use this database instead of opening one from config; the caller then closes it. */
  database?: Database;
  /** This process's tracing (app/tracing.ts), when on: the apply thread traces as the same instance. */
  tracing?: Tracing | null;
}

export async function startApi(config: Config, logger: Logger, options: StartApiOptions = {}): Promise<RunningApi> {
  const ownsDatabase = options.database === undefined;
  const { embeddedDataDir: dataDir, poolMax, queryTimeoutMs, listenHeartbeatMs } = config.database;
  const database = options.database ?? (await openDatabase({ url: config.database.url, dataDir, poolMax, queryTimeoutMs, listenHeartbeatMs, logger }));
  try {
    await migrateDatabase(database);
    const demo = isDemoMode(config) ? await prepareDemo(database, config.database.embeddedDataDir) : null;
    const verifyToken = createTokenVerifier({ ...config.auth, jwtSecret: demo?.secret ?? config.auth.jwtSecret });
    const hub = new EventHub(database, logger);
    await hub.start();
    const metrics = new Metrics();
    const webhooks = appliesOnThread(config, database) ? new ApplyWorker({ config, logger, reports: reportsTo(metrics), tracingInstanceId: options.tracing?.instanceId }) : undefined;
    const services = createServices(database, { ...serviceSettings(config), metrics, hub, logger, webhooks });
    const { reconciler } = services;
    if (!config.hms) logger.warn("100ms is not configured (HMS_ACCESS_KEY, HMS_APP_SECRET, HMS_TEMPLATE_ID): video mutations will answer UPSTREAM_UNAVAILABLE");
    const server = await createApiServer({ ...serverSettings(config), schema: await buildApiSchema(), database, services, verifyToken, logger });
    const { url } = await server.listen(config.port, config.host);
    services.webhooks.start();
    // Before the reconciler's first pass (which waits for it): replays land on the server just started.
    void services.webhookRecovery.recoverAtStart();
    reconciler.start(config.reconcileIntervalSeconds);
    const partners = new PartnerDispatcher({ database, sending: await partnerPool(config, database), settings: config.partnerWebhooks, logger, registry: metrics.registry });
    await partners.start();
    if (!config.webhooks.secret) logger.warn("HMS_WEBHOOK_SECRET is not set: POST /webhooks/100ms answers 503");
    logger.info({ url, database: database.kind, webhookApply: webhooks ? "worker" : "inline" }, "API listening");
    return {
      url,
      database,
      demoBanner: demo?.clinic ? await demoBanner(url, demo.secret, demo.clinic) : null,
      demo,
      services,
      reconciler,
      openSockets: () => server.openSockets(),
      pipeline: server.pipeline,
      partners,
      /** Order: stop accepting and drain requests and sockets, then jobs, then the database. */
      stop: async () => {
        await server.stop();
        await partners.stop();
        await services.webhooks.stop();
        await reconciler.stop();
        await services.webhookRecovery.stop();
        await services.audit.flush();
        services.live.stop();
        await hub.stop();
        if (ownsDatabase) await database.close();
      },
    };
  } catch (error) {
    if (ownsDatabase) await database.close().catch(() => undefined);
    throw error;
  }
}

/**
 * WEBHOOK_APPLY=worker on PostgreSQL: the thread opens its own pool from DATABASE_URL. The
 * embedded database is one connection inside this thread, so there webhooks apply inline.
 */
function appliesOnThread(config: Config, database: Database): boolean {
  return config.webhooks.apply === "worker" && database.kind === "postgres" && config.database.url !== undefined;
}

/**
 * On PostgreSQL, partner webhooks keep their books on a small pool of their own whose commits do
 * not wait for the disk (safe to redo: delivery is at least once), so that they neither wait
 * for nor starve the API's pool. The dispatcher closes it.
 */
async function partnerPool(config: Config, database: Database): Promise<Database | undefined> {
  if (database.kind !== "postgres" || !config.database.url || !config.partnerWebhooks.secretKey) return undefined;
  return openDatabase({ url: config.database.url, poolMax: Math.min(4, config.database.poolMax), queryTimeoutMs: config.database.queryTimeoutMs, asyncCommit: true });
}

function serviceSettings(config: Config) {
  const { maxPageSize, completionGraceSeconds, reconnectWindowSeconds, prescriptionWindowHours, rateLimits, hms, video, streams } = config;
  return { maxPageSize, completionGraceSeconds, reconnectWindowSeconds, prescriptionWindowHours, rateLimits, hms, video, streams, webhookReplay: config.webhooks.replay, applyLanes: config.webhooks.applyLanes, partnerWebhooks: config.partnerWebhooks };
}

function serverSettings(config: Config) {
  return {
    isProduction: config.isProduction,
    shutdownTimeoutMs: config.shutdownTimeoutMs,
    webhooks: config.webhooks,
    limits: config.limits,
    compiledExecution: config.compiledExecution,
    ws: config.ws,
    sse: config.sse,
    trustProxy: config.trustProxy,
    corsOrigins: config.corsOrigins,
    metricsToken: config.metricsToken,
    dashboardEnabled: config.dashboardEnabled,
    hmsConfigured: config.hms !== null,
  };
}

async function prepareDemo(database: Database, dataDir: string) {
  const secret = await demoSecret(dataDir);
  return { secret, clinic: await ensureDemoClinic(database.db) };
}
