/**
 * One LISTEN per process, fanned out to every subscriber in it. A notification only says
 * "the log grew": the hub reads the log after the last id it dispatched, in order, and hands
 * each subscriber the events of its scope (routed by consultation, doctor or patient, so an
 * event costs its own subscribers only, however many others are connected). After a
 * reconnect (or if a NOTIFY was lost) it simply reads from where it was, so nothing is
 * skipped; a slow safety poll covers a silent connection.
 */
import { SerialWorker } from "../kit/serial-worker.js";
import type { Database } from "../db/client.js";
import type { Logger } from "../kit/logger.js";
import { EVENTS_CHANNEL, EventLogRepo, type EventScope, type RoutedEvent } from "./event-log.repo.js";
import { receiveSpans } from "./event-tracing.js";
import type { ConsultationListRow } from "../consultations/consultation.model.js";

/**
 * `events`: the read's events in the listener's scope. `read`: every event of the read that
 * some listener here gets, in log order, the same array for all of them: what a listener
 * loads for its events it can load for all of `read` in one batch, shared by every listener
 * (prepared-events.ts), instead of one batch per scope. `rows`: the list rows of the read's
 * consultations, read in the same statement as the events (so that batch needs no query).
 */
export type BatchListener = (events: readonly RoutedEvent[], read: readonly RoutedEvent[], rows: readonly ConsultationListRow[]) => void;

const BATCH = 500;

export class EventHub {
  readonly #repo: EventLogRepo;
  /** By scope key (see keyOf); `all` for the unscoped. */
  readonly #listeners = new Map<string, Set<BatchListener>>();
  #lastId = 0;
  readonly #worker = new SerialWorker(
    () => this.#drain(),
    (error) => this.logger.warn({ errorClass: error.name }, "event hub could not read the log; will retry"),
  );
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
    await this.#worker.idle();
  }

  /**
   * Calls `listener` with each batch's events in `scope`, in log order (never with none). The
   * array is shared by every listener of the scope: read it, never change it.
   */
  subscribe(scope: EventScope, listener: BatchListener): () => void {
    const key = keyOf(scope);
    const set = this.#listeners.get(key) ?? new Set();
    set.add(listener);
    this.#listeners.set(key, set);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(key) === set) this.#listeners.delete(key);
    };
  }

  /** Reads and dispatches everything after the last id; concurrent calls coalesce. */
  pump(): void {
    this.#worker.poke();
  }

  async #drain(): Promise<void> {
    for (;;) {
      // The events' list rows only where someone listens (an instance without subscribers reads events alone).
      const { events: batch, rows } = this.#listeners.size > 0
        ? await this.#repo.afterWithRows(this.#lastId, BATCH)
        : { events: await this.#repo.after({ all: true }, this.#lastId, BATCH), rows: [] };
      if (batch.length === 0) return;
      this.#lastId = batch.at(-1)!.id;
      const { routed, read } = this.#route(batch);
      const traced = receiveSpans(read, this.#listeners);
      for (const [key, events] of routed) {
        for (const listener of this.#listeners.get(key) ?? []) {
          try {
            listener(events, read, rows);
          } catch (error) {
            this.logger.error({ errorClass: (error as Error).name }, "event listener failed");
          }
        }
      }
      traced?.();
      if (batch.length < BATCH) return;
    }
  }

  /**
   * The batch's events by scope key, in order: one array per scope, however many listen to
   * it; and the events any of them got.
   */
  #route(batch: readonly RoutedEvent[]): { routed: Map<string, RoutedEvent[]>; read: RoutedEvent[] } {
    const routed = new Map<string, RoutedEvent[]>();
    const read: RoutedEvent[] = [];
    for (const event of batch) {
      let heard = false;
      for (const key of ["all", `c:${event.consultationId}`, `d:${event.doctorId}`, `p:${event.patientId}`]) {
        if (!this.#listeners.has(key)) continue;
        heard = true;
        const events = routed.get(key);
        if (events) events.push(event);
        else routed.set(key, [event]);
      }
      if (heard) read.push(event);
    }
    return { routed, read };
  }
}

function keyOf(scope: EventScope): string {
  if ("consultationId" in scope) return `c:${scope.consultationId}`;
  if ("doctorId" in scope) return `d:${scope.doctorId}`;
  if ("patientId" in scope) return `p:${scope.patientId}`;
  return "all";
}
