/**
 * Sends partner webhooks from the event log, in every instance: one lane per enabled endpoint
 * (partner-lane.ts). Woken by the log's NOTIFY (the same channel the event hub listens to:
 * a wake-up, the log is the truth) and by endpoint changes (their own channel), and every
 * `pollMs` anyway: for retries another instance scheduled, leases of an instance that died,
 * and a notification lost with a connection. Built and started by app/.
 */
import type { PartnerWebhookConfig } from "../config/partner-webhooks.env.js";
import type { Database } from "../db/client.js";
import type { Logger } from "../kit/logger.js";
import type { Registry } from "prom-client";
import { EVENTS_CHANNEL } from "../live/event-log.repo.js";
import { AddressPolicy } from "./address-policy.js";
import { PartnerDeliveryLogRepo } from "./partner-delivery-log.repo.js";
import { ENDPOINTS_CHANNEL, PartnerEndpointRepo } from "./partner-endpoint.repo.js";
import { systemResolve, type Resolve } from "./partner-http.js";
import { PartnerLane, type LaneContext } from "./partner-lane.js";
import { PartnerMetrics } from "./partner-metrics.js";
import { SecretBox } from "./secret-box.js";

export interface DispatcherOptions {
  database: Database;
  /** The pool lanes keep their books on (closed by stop()); absent: `database`'s. */
  sending?: Database | undefined;
  settings: PartnerWebhookConfig;
  logger: Logger;
  registry: Registry;
  resolve?: Resolve;
  pollMs?: number;
}

export class PartnerDispatcher {
  readonly #lanes = new Map<string, PartnerLane>();
  readonly #context: LaneContext | null;
  readonly #endpoints: PartnerEndpointRepo;
  #unlisten: Array<() => Promise<void>> = [];
  #interval: NodeJS.Timeout | null = null;
  #refreshing: Promise<void> | null = null;
  #stopped = false;
  /** Grows with every notification and periodic look: lanes plan again when it moved. */
  #version = 0;

  constructor(private readonly options: DispatcherOptions) {
    const { database, settings, logger } = options;
    this.#endpoints = new PartnerEndpointRepo(database.db);
    const log = new PartnerDeliveryLogRepo(database.db);
    const metrics = new PartnerMetrics(options.registry, () => log.backlog());
    this.#context = settings.secretKey
      ? {
          db: (options.sending ?? database).db,
          settings,
          box: new SecretBox(settings.secretKey),
          policy: new AddressPolicy(settings),
          resolve: options.resolve ?? systemResolve,
          metrics,
          logger,
          pollMs: options.pollMs ?? 5_000,
          logVersion: () => this.#version,
        }
      : null;
  }

  /** Lanes for the enabled endpoints, and the wake-ups. Without a secret key it only warns (when endpoints exist). */
  async start(): Promise<void> {
    if (!this.#context) {
      const endpoints = await this.#endpoints.list();
      if (endpoints.length > 0) this.options.logger.warn({ endpoints: endpoints.length }, "PARTNER_WEBHOOKS_SECRET_KEY is not set: nothing is sent to partner endpoints");
      return;
    }
    const { database } = this.options;
    const pokeAll = () => {
      this.#version++;
      this.#pokeAll();
    };
    const refresh = () => {
      this.#version++;
      void this.refresh();
    };
    this.#unlisten.push((await database.listen(EVENTS_CHANNEL, pokeAll, pokeAll)).unlisten);
    this.#unlisten.push((await database.listen(ENDPOINTS_CHANNEL, refresh, refresh)).unlisten);
    await this.refresh();
    this.#interval = setInterval(refresh, this.#context.pollMs);
    this.#interval.unref();
  }

  /** Matches the lanes to the enabled endpoints, then pokes every lane; concurrent calls share one read. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refresh().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#interval) clearInterval(this.#interval);
    await Promise.all(this.#unlisten.map((unlisten) => unlisten().catch(() => undefined)));
    await this.#refreshing?.catch(() => undefined);
    await Promise.all([...this.#lanes.values()].map((lane) => lane.stop()));
    this.#lanes.clear();
    await this.options.sending?.close();
  }

  async #refresh(): Promise<void> {
    if (this.#stopped || !this.#context) return;
    let enabled: Set<string>;
    try {
      enabled = new Set((await this.#endpoints.list()).filter((e) => e.enabled).map((e) => e.id));
    } catch (error) {
      this.options.logger.warn({ errorClass: (error as Error).name }, "partner webhooks: could not read the endpoints; will retry");
      return;
    }
    if (this.#stopped) return;
    for (const [id, lane] of this.#lanes) {
      if (enabled.has(id)) continue;
      this.#lanes.delete(id);
      void lane.stop();
    }
    for (const id of enabled) if (!this.#lanes.has(id)) this.#lanes.set(id, new PartnerLane(id, this.#context));
    this.#pokeAll();
  }

  #pokeAll(): void {
    for (const lane of this.#lanes.values()) lane.poke();
  }
}
