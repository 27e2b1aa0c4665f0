/**
 * Taking a 100ms webhook in: durable before acknowledged. The raw event is in the inbox
 * before the answer, and the webhook queue applies it right after (100ms does not wait on
 * our projection). A redelivery changes nothing; an event stored but not applied yet (say,
 * before a restart) is queued again. When the database cannot take it, the answer says so
 * and 100ms retries.
 */
import type { Db } from "../db/client.js";
import type { Logger } from "../kit/logger.js";
import { carry, inSpan, tagActiveSpan } from "../kit/tracing.js";
import { parseEnvelope, type Envelope } from "./envelope.js";
import { InboxRepo, type StoreOutcome } from "./inbox.repo.js";
import type { WebhookApplier } from "./webhook-queue.js";

/** `accepted`: this delivery will be applied; `duplicate`: it changes nothing. */
export type IntakeOutcome = "accepted" | "duplicate" | "invalid" | "unavailable";

export interface WebhookIntakeDeps {
  db: Db;
  queue: Pick<WebhookApplier, "enqueue">;
  logger: Logger;
  /** Counts refusals and duplicates (accepted events are counted when applied). */
  count: (type: string, outcome: "rejected" | "duplicate") => void;
}

export class WebhookIntake {
  readonly #writer: InboxWriter;

  constructor(private readonly deps: WebhookIntakeDeps) {
    this.#writer = new InboxWriter(deps.db);
  }

  /** Stores an authenticated delivery's body and queues it; says what became of it. */
  async accept(body: Buffer): Promise<IntakeOutcome> {
    const envelope = parseEnvelope(body);
    if (!envelope) {
      this.deps.count("invalid", "rejected");
      return "invalid";
    }
    tagActiveSpan(() => ({ "hms.webhook.id": envelope.id, "hms.webhook.type": envelope.type }));
    let stored;
    try {
      stored = await inSpan("webhook inbox store", () => this.#writer.store(envelope));
    } catch (error) {
      this.deps.logger.error({ errorClass: (error as Error).name, webhookId: envelope.id }, "webhook not stored: database unavailable");
      return "unavailable";
    }
    if (stored === "processed") {
      this.deps.count(envelope.type, "duplicate");
      return "duplicate";
    }
    carry(envelope); // the apply's span continues this trace (kit/tracing.ts)
    this.deps.queue.enqueue(envelope);
    return "accepted";
  }
}

interface Waiting {
  envelope: Envelope;
  resolve(outcome: StoreOutcome): void;
  reject(error: unknown): void;
}

/**
 * Group commit for the webhook inbox. Each delivery must be durable before its 200, but it
 * need not have a commit of its own: while `maxInFlight` inserts are running, deliveries that
 * arrive wait and go together in the next one (one statement, one WAL flush). Under light load
 * every delivery is written at once, alone; under a burst, batches form by themselves.
 */
export class InboxWriter {
  readonly #repo: InboxRepo;
  readonly #waiting: Waiting[] = [];
  #inFlight = 0;

  constructor(
    db: Db,
    private readonly options: { maxInFlight?: number; maxBatch?: number } = {},
  ) {
    this.#repo = new InboxRepo(db);
  }

  /**
   * Resolves once stored, with what the inbox held (InboxRepo.storeMany): `first` when this
   * delivery is the first with its id.
   */
  store(envelope: Envelope): Promise<StoreOutcome> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ envelope, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    if (this.#waiting.length === 0 || this.#inFlight >= (this.options.maxInFlight ?? 2)) return;
    const batch = this.#waiting.splice(0, this.options.maxBatch ?? 500);
    this.#inFlight++;
    void this.#write(batch).finally(() => {
      this.#inFlight--;
      this.#next();
    });
  }

  async #write(batch: Waiting[]): Promise<void> {
    try {
      const found = await this.#repo.storeMany(batch.map((w) => w.envelope));
      // The same id twice in one batch: only the first delivery is the first.
      for (const w of batch) {
        const outcome = found.get(w.envelope.id) ?? "stored";
        if (outcome === "first") found.set(w.envelope.id, "stored");
        w.resolve(outcome);
      }
    } catch (error) {
      if (batch.length === 1) return batch[0]!.reject(error);
      // One bad row must not fail its neighbours: write them one by one.
      await Promise.all(batch.map((w) => this.#write([w])));
    }
  }
}
