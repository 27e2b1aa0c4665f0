/**
 * Group commit for the webhook inbox. Each delivery must be durable before its 200, but it
 * need not have a commit of its own: while `maxInFlight` inserts are running, deliveries that
 * arrive wait and go together in the next one (one statement, one WAL flush). Under light load
 * every delivery is written at once, alone; under a burst, batches form by themselves.
 */
import type { Db } from "../db/client.js";
import type { Envelope } from "./envelope.js";
import { InboxRepo, type StoreOutcome } from "./inbox.repo.js";

interface Waiting {
  envelope: Envelope;
  resolve(outcome: StoreOutcome): void;
  reject(error: unknown): void;
}

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
