/**
 * One endpoint's queue in this process: its own loop, its own connections and at most
 * PARTNER_WEBHOOKS_CONCURRENCY deliveries in flight (counted over every instance), so a slow
 * or failing partner only ever holds its own lane. A tick, in one short transaction under the
 * endpoint's row lock (SKIP LOCKED: another instance's tick makes this one a no-op), plans the
 * log's new events into deliveries and leases the due ones; each is then signed, POSTed and
 * recorded on its own, and its end pokes the lane again.
 */
import http from "node:http";
import https from "node:https";
import { randomUUID } from "node:crypto";
import type { PartnerWebhookConfig } from "../config/partner-webhooks.env.js";
import { encodeEventId } from "../consultations/event-cursor.js";
import type { Db } from "../db/client.js";
import type { Logger } from "../kit/logger.js";
import { SerialWorker } from "../kit/serial-worker.js";
import type { AddressPolicy } from "./address-policy.js";
import { PartnerDeliveryRepo, type Claimed, type Outcome } from "./partner-delivery.repo.js";
import type { EndpointRow } from "./partner-endpoint.repo.js";
import { partnerPayload } from "./partner-events.js";
import { postWebhook, type AttemptResult, type Resolve } from "./partner-http.js";
import type { PartnerMetrics } from "./partner-metrics.js";
import { nextDelayMs } from "./retry-schedule.js";
import type { SecretBox } from "./secret-box.js";
import { signedHeaders } from "./signing.js";

export interface LaneContext {
  db: Db;
  settings: PartnerWebhookConfig;
  box: SecretBox;
  policy: AddressPolicy;
  resolve: Resolve;
  metrics: PartnerMetrics;
  logger: Logger;
  /** Longest a lane waits before it looks at its endpoint again. */
  pollMs: number;
}

/** A lease outlives the longest exchange by this much: time to record the outcome. */
const LEASE_MARGIN_MS = 5_000;

export class PartnerLane {
  readonly #sends = new Set<Promise<void>>();
  readonly #worker: SerialWorker;
  readonly #agents: { http: http.Agent; https: https.Agent };
  /** Opened secrets by their sealed text: rotation changes the text. */
  readonly #opened = new Map<string, string>();
  readonly #unopenable = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  #stopped = false;

  constructor(
    readonly endpointId: string,
    private readonly ctx: LaneContext,
  ) {
    const onError = (error: Error) => {
      ctx.logger.warn({ endpointId, errorClass: error.name }, "partner webhooks: could not plan or claim deliveries; will retry");
      this.#later(ctx.pollMs);
    };
    this.#worker = new SerialWorker(() => this.#tick(), onError);
    const sockets = { keepAlive: true, maxSockets: ctx.settings.concurrency };
    this.#agents = { http: new http.Agent(sockets), https: new https.Agent(sockets) };
  }

  poke(): void {
    if (!this.#stopped) this.#worker.poke();
  }

  /** Stops claiming, and waits for the deliveries in flight to be recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#worker.idle();
    await Promise.allSettled([...this.#sends]);
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  async #tick(): Promise<void> {
    if (this.#stopped) return;
    const token = randomUUID();
    const leaseMs = this.ctx.settings.timeoutMs + LEASE_MARGIN_MS;
    const work = await this.ctx.db.transaction(async (tx) => {
      const repo = new PartnerDeliveryRepo(tx);
      const endpoint = await repo.lockEnabled(this.endpointId);
      if (!endpoint) return null;
      const secrets = this.#secretsOf(endpoint);
      if (!secrets) return null;
      const more = await repo.plan(endpoint);
      const room = this.ctx.settings.concurrency - (await repo.inFlight(this.endpointId));
      return { endpoint, secrets, more, claimed: await repo.claim(this.endpointId, room, leaseMs, token) };
    });
    if (!work) return this.#later(this.ctx.pollMs);
    for (const claimed of work.claimed) this.#track(this.#deliver(work.endpoint, work.secrets, claimed, token));
    if (work.more) return this.poke();
    if (this.#sends.size === 0) {
      const due = await new PartnerDeliveryRepo(this.ctx.db).nextDue(this.endpointId);
      if (due) this.#later(due.getTime() - Date.now());
    }
  }

  /** The secrets that sign now (the previous one too during a rotation's overlap); null when they do not open. */
  #secretsOf(endpoint: EndpointRow): string[] | null {
    const sealed = [endpoint.secret];
    if (endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > new Date()) sealed.push(endpoint.previousSecret);
    try {
      return sealed.map((text) => {
        const known = this.#opened.get(text);
        if (known !== undefined) return known;
        const secret = this.ctx.box.open(text, endpoint.id);
        this.#opened.set(text, secret);
        return secret;
      });
    } catch (error) {
      // Logged once per secret, not at every look.
      if (!this.#unopenable.has(endpoint.secret)) {
        this.#unopenable.add(endpoint.secret);
        this.ctx.logger.error({ endpointId: endpoint.id, errorClass: (error as Error).name }, "partner webhooks: the endpoint's secret does not open with PARTNER_WEBHOOKS_SECRET_KEY; nothing is sent to it");
      }
      return null;
    }
  }

  #track(send: Promise<void>): void {
    this.#sends.add(send);
    void send.finally(() => {
      this.#sends.delete(send);
      this.poke();
    });
  }

  async #deliver(endpoint: EndpointRow, secrets: string[], claimed: Claimed, token: string): Promise<void> {
    const { metrics, settings, logger } = this.ctx;
    const body = JSON.stringify(partnerPayload(claimed.event));
    const startedAt = new Date();
    const headers = signedHeaders(encodeEventId(claimed.event.id), startedAt, body, secrets);
    const url = new URL(endpoint.url);
    metrics.inFlight.inc();
    const result = await postWebhook(url, body, { ...headers }, {
      policy: this.ctx.policy,
      resolve: this.ctx.resolve,
      timeoutMs: settings.timeoutMs,
      agent: url.protocol === "https:" ? this.#agents.https : this.#agents.http,
    }).finally(() => metrics.inFlight.dec());
    const outcome = outcomeOf(result, claimed.attempt, settings.retryScheduleMs);
    try {
      const disabled = await new PartnerDeliveryRepo(this.ctx.db).record(endpoint.id, claimed, token, { startedAt, ...result }, outcome);
      metrics.attempts.inc({ outcome: outcome.kind, error_class: result.errorClass ?? "none" });
      if (outcome.kind === "delivered") metrics.lag.observe((Date.now() - claimed.event.createdAt.getTime()) / 1000);
      if (outcome.kind === "retry") this.#later(outcome.delayMs);
      if (disabled) {
        metrics.disabled.inc({ reason: disabled });
        logger.warn({ endpointId: endpoint.id, reason: disabled, statusCode: result.statusCode, errorClass: result.errorClass }, "partner endpoint disabled");
      }
    } catch (error) {
      logger.warn({ endpointId: endpoint.id, errorClass: (error as Error).name }, "partner webhooks: could not record an attempt; the delivery is sent again once its lease ends");
    }
  }

  /** Looks again in `ms` (at most pollMs), unless it already means to sooner. */
  #later(ms: number): void {
    if (this.#stopped) return;
    const wait = Math.min(Math.max(ms, 0), this.ctx.pollMs);
    const at = Date.now() + wait;
    if (this.#timer && this.#timerAt <= at) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Infinity;
      this.poke();
    }, wait);
    this.#timer.unref();
  }
}

function outcomeOf(result: AttemptResult, attempt: number, scheduleMs: readonly number[]): Outcome {
  if (result.ok) return { kind: "delivered" };
  if (result.errorClass === "gone") return { kind: "gone" };
  const delayMs = nextDelayMs(scheduleMs, attempt);
  return delayMs === null ? { kind: "given_up" } : { kind: "retry", delayMs };
}
