/**
 * One LISTEN per process, fanned out to every subscriber in it. A notification only says
 * "the log grew": the hub reads the log after the last id it dispatched, in order, and hands
 * each batch to the subscribers. After a reconnect (or if a NOTIFY was lost) it simply reads
 * from where it was, so nothing is skipped; a slow safety poll covers a silent connection.
 */
import type { Database } from "../db/client.js";
import type { Logger } from "../logger.js";
import { EVENTS_CHANNEL, EventLogRepo, type RoutedEvent } from "./event-log.repo.js";

export type BatchListener = (events: readonly RoutedEvent[]) => void;

const BATCH = 500;

export class EventHub {
  readonly #repo: EventLogRepo;
  readonly #listeners = new Set<BatchListener>();
  #lastId = 0;
  #pumping: Promise<void> | null = null;
  #again = false;
  #unlisten: (() => Promise<void>) | null = null;
  #poll: NodeJS.Timeout | null = null;

  constructor(
    private readonly database: Database,
    private readonly logger: Logger,
    private readonly pollMs = 5000,
  ) {
    this.#repo = new EventLogRepo(database.db);
  }

  /** The id of the last event dispatched: a live-only stream starts after it. */
  get lastId(): number {
    return this.#lastId;
  }

  async start(): Promise<void> {
    this.#lastId = await this.#repo.latestId();
    const { unlisten } = await this.database.listen(
      EVENTS_CHANNEL,
      () => this.pump(),
      () => this.pump(),
    );
    this.#unlisten = unlisten;
    this.#poll = setInterval(() => this.pump(), this.pollMs);
    this.#poll.unref();
  }

  async stop(): Promise<void> {
    if (this.#poll) clearInterval(this.#poll);
    this.#listeners.clear();
    await this.#unlisten?.().catch(() => undefined);
    await this.#pumping?.catch(() => undefined);
  }

  subscribe(listener: BatchListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Reads and dispatches everything after the last id; concurrent calls coalesce. */
  pump(): void {
    if (this.#pumping) {
      this.#again = true;
      return;
    }
    this.#pumping = this.#drain()
      .catch((error: Error) => this.logger.warn({ errorClass: error.name }, "event hub could not read the log; will retry"))
      .finally(() => {
        this.#pumping = null;
        if (this.#again) {
          this.#again = false;
          this.pump();
        }
      });
  }

  async #drain(): Promise<void> {
    for (;;) {
      const batch = await this.#repo.after({ all: true }, this.#lastId, BATCH);
      if (batch.length === 0) return;
      this.#lastId = batch.at(-1)!.id;
      for (const listener of this.#listeners) {
        try {
          listener(batch);
        } catch (error) {
          this.logger.error({ errorClass: (error as Error).name }, "event listener failed");
        }
      }
      if (batch.length < BATCH) return;
    }
  }
}
