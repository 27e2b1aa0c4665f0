/**
 * Webhooks are acknowledged once they are in the inbox; this queue applies them right after,
 * in batches: whatever arrived while the previous batch was being applied goes in the next
 * one, so a burst costs a few transactions instead of one per event (and 100ms never waits
 * on the projection). Nothing acknowledged lives only here: a crash, a failed batch or an
 * overflow leaves rows unprocessed in the inbox, and the queue's backlog pass applies them.
 *
 * Acknowledged means applied soon, whatever the reconciler's setting: after an event fails to
 * apply (the database reset mid-batch, a bug), the queue reads its own unprocessed rows back
 * from the inbox after `retryBaseMs`, doubling up to `retryMaxMs` (5 s) while they keep failing,
 * until they apply or have failed `MAX_APPLY_ATTEMPTS` times: those are dead letters, left
 * for an operator (`webhooks_dead_letters`, `npm run webhooks:retry`).
 */
import { BatchLanes } from "../kit/batch-lanes.js";
import type { Db } from "../db/client.js";
import { databaseUnreachable } from "../db/errors.js";
import type { Logger } from "../kit/logger.js";
import { applySpan } from "./webhook-tracing.js";
import { envelopeSchema, type Envelope } from "./envelope.js";
import { InboxRepo, MAX_APPLY_ATTEMPTS } from "./inbox.repo.js";
import type { ProcessOutcome, WebhookProcessor } from "./webhook-processor.js";

export interface WebhookQueueOptions {
  processor: WebhookProcessor;
  db: Db;
  logger: Logger;
  /** Counts each event's outcome (metrics). */
  onOutcome?: (type: string, outcome: ProcessOutcome | "failed") => void;
  /** Called with the size of each batch applied (metrics). */
  onBatch?: (size: number) => void;
  batchSize?: number;
  /** Events held in memory at most; past that they wait in the inbox (backlog). */
  maxQueued?: number;
  /**
   * Batches applied at once, for different rooms (default 1; kit/batch-lanes.ts): one more
   * starts only when the newest has run `splitAfterMs` (default 50 ms), so against a near
   * database batches stay as large as with one.
   */
  lanes?: number;
  splitAfterMs?: number;
  /** First wait before failed events are read back and applied again (default 1 s). */
  retryBaseMs?: number;
  /**
   * Longest wait between two such retries (default 5 s): once the database is back, what failed
   * meanwhile is applied within that, and a failing read costs one statement.
   */
  retryMaxMs?: number;
  /** Runs `run` after `delayMs`, returning a cancel (default: an unref'd timer; tests step it by hand). */
  schedule?: Schedule;
}

export type Schedule = (run: () => void, delayMs: number) => () => void;

const timer: Schedule = (run, delayMs) => {
  const handle = setTimeout(run, delayMs);
  handle.unref();
  return () => clearTimeout(handle);
};


/**
 * Where the intake hands stored events and the reconciler its retries: this queue, or the
 * apply thread that runs one (apply-worker.ts).
 */
export interface WebhookApplier {
  /** Applies what earlier runs left unprocessed in the inbox, then keeps up. */
  start(): void;
  /** Queues a stored event for processing. */
  enqueue(envelope: Envelope): void;
  /** Applies stored events not queued (the reconciler's retries); how many were applied or settled. */
  retry(envelopes: readonly Envelope[]): Promise<number>;
  /** Resolves once everything handed over so far is applied (or left to the reconciler), and reported. */
  idle(): Promise<void>;
  /** Finishes the batch being applied; what is still queued stays in the inbox for the next start. */
  stop(): Promise<void>;
  /** Events queued or being applied. */
  readonly size: number;
}

export class WebhookQueue implements WebhookApplier {
  /** Ids queued or being applied, so a redelivery is not queued twice. */
  readonly #ids = new Set<string>();
  readonly #batchSize: number;
  readonly #maxQueued: number;
  readonly #lanes: BatchLanes<Envelope>;
  #backlog = false;
  #stopped = false;
  #cancelRetry: (() => void) | null = null;
  #retryDelayMs = 0;

  constructor(private readonly options: WebhookQueueOptions) {
    this.#batchSize = options.batchSize ?? 200;
    this.#maxQueued = options.maxQueued ?? 10_000;
    this.#lanes = new BatchLanes<Envelope>({
      // A room's events in the order stored, one batch at a time; events with no room go together.
      key: (envelope) => (typeof envelope.data.room_id === "string" ? envelope.data.room_id : ""),
      run: (batch) => this.#applyQueued(batch),
      onError: (error) => options.logger.warn({ errorClass: error.name }, "webhook queue could not drain; the reconciler retries"),
      refill: () => (this.#backlog && !this.#stopped ? this.#fromBacklog() : null),
      lanes: options.lanes ?? 1,
      batchSize: this.#batchSize,
      splitAfterMs: options.splitAfterMs ?? 50,
    });
  }

  /** Applies what earlier runs left unprocessed in the inbox (a crash, a full queue), then keeps up. */
  start(): void {
    this.#readBacklog();
  }

  /** Queues a stored event for processing. */
  enqueue(envelope: Envelope): void {
    if (this.#stopped || this.#ids.has(envelope.id)) return;
    if (this.#lanes.queued >= this.#maxQueued) {
      if (!this.#backlog) this.options.logger.warn({ queued: this.#lanes.queued }, "webhook queue full: later events wait in the inbox");
      this.#backlog = true;
      return;
    }
    this.#ids.add(envelope.id);
    this.#lanes.push([envelope]);
  }

  /** Events queued or being applied here. */
  get size(): number {
    return this.#ids.size;
  }

  retry(envelopes: readonly Envelope[]): Promise<number> {
    const unqueued = envelopes.filter((e) => !this.#ids.has(e.id));
    return unqueued.length > 0 ? this.apply(unqueued) : Promise.resolve(0);
  }

  /** Resolves once nothing is queued, being applied or being read back from the inbox. */
  idle(): Promise<void> {
    return this.#lanes.idle();
  }

  /** Finishes the batches being applied; what is still queued stays in the inbox for the next start. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelRetry?.();
    this.#cancelRetry = null;
    await this.#lanes.stop();
    this.#ids.clear();
  }

  /**
   * Applies stored events now, isolating failures: a batch the database refused is retried one
   * event at a time (one bad event must not hold back the rest), and an event that fails alone
   * is marked failed and read back later (`#retryLater`). A batch that failed because the
   * database did not answer or the connection died is marked failed whole and read back later:
   * one at a time, each would wait out the same outage. Returns how many were applied or settled.
   */
  async apply(batch: readonly Envelope[]): Promise<number> {
    try {
      const outcomes = await applySpan(batch, () => this.options.processor.processBatch(batch));
      this.options.onBatch?.(batch.length);
      batch.forEach((e, i) => this.options.onOutcome?.(e.type, outcomes[i]!));
      return batch.length;
    } catch (error) {
      const outage = databaseUnreachable(error);
      if (batch.length > 1 && !outage) {
        let done = 0;
        for (const envelope of batch) done += await this.apply([envelope]);
        return done;
      }
      this.options.logger.warn({ errorClass: (error as Error).name, webhookIds: batch.map((e) => e.id), outage }, "webhooks stored, processing deferred");
      for (const envelope of batch) this.options.onOutcome?.(envelope.type, "failed");
      // An outage is not the events' fault: it brings none of them nearer to a dead letter.
      await new InboxRepo(this.options.db).markFailed(batch.map((e) => e.id), { counted: !outage }).catch(() => undefined);
      this.#retryLater();
      return 0;
    }
  }

  async #applyQueued(batch: Envelope[]): Promise<void> {
    try {
      await this.apply(batch);
    } finally {
      for (const envelope of batch) this.#ids.delete(envelope.id);
    }
  }

  /** Reads unprocessed inbox rows once the lanes are drained (at once, if they are). */
  #readBacklog(): void {
    this.#backlog = true;
    this.#lanes.kick();
  }

  /** Reads the inbox's unprocessed rows back after a wait that doubles while they keep failing. */
  #retryLater(): void {
    if (this.#stopped || this.#cancelRetry) return;
    const base = this.options.retryBaseMs ?? 1_000;
    this.#retryDelayMs = Math.min(this.#retryDelayMs > 0 ? this.#retryDelayMs * 2 : base, this.options.retryMaxMs ?? 5_000);
    this.#cancelRetry = (this.options.schedule ?? timer)(() => {
      this.#cancelRetry = null;
      this.#readBacklog();
    }, this.#retryDelayMs);
  }

  /** After an overflow or a failure: unprocessed inbox rows, a batch at a time, until there are none left. */
  async #fromBacklog(): Promise<Envelope[]> {
    const rows = await new InboxRepo(this.options.db)
      .unprocessed(this.#batchSize, MAX_APPLY_ATTEMPTS)
      .catch(() => (this.#retryLater(), []));
    if (rows.length < this.#batchSize) this.#backlog = false;
    if (rows.length === 0) this.#retryDelayMs = 0; // nothing left failing: the next failure waits the base again
    const envelopes = rows.flatMap((row) => {
      const parsed = envelopeSchema.safeParse(row.payload);
      return parsed.success && !this.#ids.has(parsed.data.id) ? [parsed.data] : [];
    });
    for (const envelope of envelopes) this.#ids.add(envelope.id);
    return envelopes;
  }
}
