/**
 * One endpoint's queue in this process: its own loop, its own connections and at most
 * PARTNER_WEBHOOKS_CONCURRENCY deliveries in flight (counted over every instance), so a slow
 * or failing partner only ever holds its own lane. Each look (partner-step.ts: one transaction)
 * records the attempts that finished, plans the log's new events into deliveries when the log
 * may have grown, and leases the due ones under the endpoint's row lock (so instances take
 * turns and the concurrency holds over all of them); each is then signed and POSTed on its
 * own, and its end pokes the lane again.
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
import { PartnerDeliveryRepo, type Claimed, type ClaimedEndpoint, type Outcome } from "./partner-delivery.repo.js";
import { step, type Finished, type StepResult } from "./partner-step.js";
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
  /** Grows whenever the log or the endpoints may have changed (a notification, a periodic look). */
  logVersion(): number;
}

/** A lease outlives the longest exchange by this much: time to record the outcome. */
const LEASE_MARGIN_MS = 5_000;

export class PartnerLane {
  readonly #sends = new Set<Promise<void>>();
  /** Attempts made and not yet recorded: the next look records them. */
  readonly #finished: Finished[] = [];
  readonly #retried = new WeakSet<Finished>();
  readonly #worker: SerialWorker;
  readonly #agents: { http: http.Agent; https: https.Agent };
  /** Opened secrets by their sealed text: rotation changes the text. */
  readonly #opened = new Map<string, string>();
  readonly #unopenable = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Infinity;
  #stopped = false;
  /** The log version of the last plan that left nothing behind; -1: plan at the next look. */
  #plannedAt = -1;

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

  /** Attempts made and not recorded yet (they are, at the lane's next look). */
  get unrecorded(): number {
    return this.#finished.length;
  }

  /** Stops claiming, and waits for the deliveries in flight to finish and be recorded. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#worker.idle();
    await Promise.allSettled([...this.#sends]);
    if (this.#finished.length > 0) await this.#tick().catch(() => undefined);
    this.#agents.http.destroy();
    this.#agents.https.destroy();
  }

  async #tick(): Promise<void> {
    const finished = this.#finished.splice(0);
    const version = this.ctx.logVersion();
    const token = randomUUID();
    const leaseMs = this.ctx.settings.timeoutMs + LEASE_MARGIN_MS;
    const input = { endpointId: this.endpointId, finished, plan: !this.#stopped && version !== this.#plannedAt, concurrency: this.#stopped ? 0 : this.ctx.settings.concurrency, leaseMs, token };
    const result = await step(this.ctx.db, input).catch((error: unknown) => {
      // Kept for one more look; after a second failure they are dropped (their leases end, and
      // the deliveries are sent again), so that a record the database refuses blocks nothing.
      const again = finished.filter((f) => !this.#retried.has(f));
      for (const f of again) this.#retried.add(f);
      if (again.length < finished.length) this.ctx.logger.warn({ endpointId: this.endpointId, attempts: finished.length - again.length }, "partner webhooks: could not record attempts; their deliveries are sent again once their leases end");
      this.#finished.unshift(...again);
      throw error;
    });
    this.#report(finished, result.disabled);
    if (this.#stopped) return;
    if (result.more) this.poke();
    else if (result.more === false) this.#plannedAt = version;
    const { endpoint, items } = result.batch;
    if (!endpoint) return this.#later(this.ctx.pollMs);
    const secrets = this.#secretsOf(endpoint);
    if (!secrets) {
      if (items.length > 0) await new PartnerDeliveryRepo(this.ctx.db).release(token);
      return this.#later(this.ctx.pollMs);
    }
    for (const claimed of items) this.#track(this.#deliver(endpoint, secrets, claimed, token));
    if (this.#sends.size === 0) {
      const due = await new PartnerDeliveryRepo(this.ctx.db).nextDue(this.endpointId);
      if (due) this.#later(due.getTime() - Date.now());
    }
  }

  /** Metrics and log lines of recorded attempts. */
  #report(finished: readonly Finished[], disabled: StepResult["disabled"]): void {
    const { metrics, logger } = this.ctx;
    finished.forEach(({ claimed, attempt, outcome }, i) => {
      metrics.attempts.inc({ outcome: outcome.kind, error_class: attempt.errorClass ?? "none" });
      if (outcome.kind === "delivered") metrics.lag.observe((attempt.startedAt.getTime() + attempt.durationMs - claimed.event.createdAt.getTime()) / 1000);
      const reason = disabled[i];
      if (reason) {
        metrics.disabled.inc({ reason });
        logger.warn({ endpointId: this.endpointId, reason, statusCode: attempt.statusCode, errorClass: attempt.errorClass }, "partner endpoint disabled");
      }
    });
  }

  /** The secrets that sign now (the previous one too during a rotation's overlap); null when they do not open. */
  #secretsOf(endpoint: ClaimedEndpoint): string[] | null {
    const sealed = endpoint.previousSecret ? [endpoint.secret, endpoint.previousSecret] : [endpoint.secret];
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

  async #deliver(endpoint: ClaimedEndpoint, secrets: string[], claimed: Claimed, token: string): Promise<void> {
    const { metrics, settings } = this.ctx;
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
    const { statusCode, errorClass, durationMs } = result;
    this.#finished.push({ claimed, token, attempt: { startedAt, durationMs, statusCode, errorClass }, outcome });
    if (outcome.kind === "retry") this.#later(outcome.delayMs);
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
