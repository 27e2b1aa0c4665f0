/**
 * A subscriber's stream: replay every event after `afterId` from the log, then go live, with
 * no gap and no duplicate. The live feed is joined before the replay starts and queued; one
 * loop sends everything in id order, dropping what was already sent. Each event is prepared
 * (its data loaded) before it is sent, retrying while the database is briefly away, so an
 * outage delays events instead of losing them.
 *
 * Replays are bounded: each page waits for admission (see ReplayGate), is sized by contention
 * (large while the replay has slots to spare, small while replays compete for them) and the
 * stream yields to the event loop between turns, so many replays share the process instead of
 * one hogging it. The caller refuses resume points past the horizon beforehand.
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from "node:timers/promises";
import type { EventHub } from "./event-hub.js";
import type { EventLogRepo, EventScope, RoutedEvent } from "./event-log.repo.js";
import { HandOver } from "./hand-over.js";
import type { ConsultationListRow } from "../consultations/consultation.model.js";
import { pushSpans } from "./event-tracing.js";
import { nextReplayPage, type Admission, type ReplayTurns } from "./replay-gate.js";

export interface StreamOptions<T extends RoutedEvent> {
  hub: EventHub;
  log: EventLogRepo;
  scope: EventScope;
  /** Resume after this event id; null = live from now. */
  afterId: number | null;
  /** Checked for every event before it is sent (re-authorization). False ends the stream. */
  authorize: (event: RoutedEvent) => boolean;
  /**
   * Loads what the events' resolvers need, for a whole replay page at once (one batch of
   * queries, not one per event); retried with backoff while it fails. Live, it is also
   * handed the hub's whole read (events of other scopes among them) as it arrives, so that
   * one batch loads it for every stream (see BatchListener); nothing of it is sent here
   * but this stream's own events.
   */
  prepare: (events: readonly RoutedEvent[], rows?: readonly ConsultationListRow[]) => Promise<T[]>;
  /**
   * Runs before each batch is sent; what it throws ends the stream with that error (for
   * example: the user's rights changed). Other failures end the stream quietly.
   */
  recheck?: () => Promise<void>;
  /**
   * Opens this stream's replay at its gate (see ReplayGate): each turn (read, prepare, send)
   * runs when admitted and learns whether the replay competes (it then reads small pages).
   * The default admits at once, uncontended.
   */
  replays?: () => ReplayTurns;
  onEnd?: () => void;
  /** Called as each event is handed to the client (metrics). */
  onDeliver?: (event: RoutedEvent) => void;
}

/** The stream: an async iterator (what a subscription's resolver returns) over a HandOver queue. */
export function eventStream<T extends RoutedEvent>(options: StreamOptions<T>): AsyncIterableIterator<T> {
  return new StreamRun(options);
}

/** How long one stream sends before it lets the event loop serve others. */
const SEND_SLICE_MS = 5;
/** Events handed to the consumer at once before the sender waits for it to take them. */
const HAND_OVER = 32;

const UNGATED: ReplayTurns = { run: (work) => work({ contended: false }), close: () => {} };

/** One subscriber's run: the replay, then the live feed, one sender for both. */
class StreamRun<T extends RoutedEvent> extends HandOver<T> {
  #cursor: number;
  readonly #queued: RoutedEvent[] = [];
  #endWith: Error | undefined;
  /** Leaves the hub's live feed; null once the stream has ended. */
  #unsubscribe: (() => void) | null = null;
  /** The replay is over: live events are sent as they come. */
  #live = false;
  /** A live sender is running. */
  #sending = false;

  constructor(private readonly options: StreamOptions<T>) {
    super();
    this.#cursor = options.afterId ?? options.hub.lastId;
  }

  protected start(): void {
    void this.run();
  }

  protected endedUnstarted(): void {
    this.options.onEnd?.(); // never read, never run: still the stream's end (metrics, audit)
  }

  protected onStop(): void {
    this.#pump();
  }

  async run(): Promise<void> {
    // The live feed is joined before the replay reads, so nothing falls between them.
    this.#unsubscribe = this.options.hub.subscribe(this.options.scope, (events, read, rows) => {
      this.options.prepare(read, rows).catch(() => undefined); // a failure is retried by `#send`
      this.#queued.push(...events);
      this.#pump();
    });
    try {
      if (this.options.afterId !== null) await this.#replay();
    } catch {
      this.stop(this.#endWith);
    }
    this.#live = true;
    this.#pump();
  }

  /**
   * Live: starts a sender when events are queued and none is running, and ends the stream once
   * it is stopped and no sender runs. Between events nothing of the stream is suspended: an
   * idle stream, waiting as long as its socket stays open, holds no frame or promise of its own.
   */
  #pump(): void {
    if (!this.#live || this.#sending) return;
    if (this.stopped) return this.#end();
    if (this.#queued.length > 0) void this.#sendQueued();
  }

  /** Sends what is queued, and what is queued meanwhile, in order. */
  async #sendQueued(): Promise<void> {
    this.#sending = true;
    try {
      // Resumed a turn later, as a waiting sender is: every listener of a hub read queues first.
      await undefined;
      while (!this.stopped && this.#queued.length > 0) await this.#send(this.#queued.splice(0));
    } catch {
      this.stop(this.#endWith);
    } finally {
      this.#sending = false;
    }
    this.#pump();
  }

  #end(): void {
    const unsubscribe = this.#unsubscribe;
    if (!unsubscribe) return;
    this.#unsubscribe = null;
    unsubscribe();
    this.options.onEnd?.();
  }

  /** Replays the log in admitted turns until a page comes back short. */
  async #replay(): Promise<void> {
    const turns = this.options.replays?.() ?? UNGATED;
    const pages = { size: null as number | null };
    try {
      while (await turns.run((admission) => this.#turn(admission, pages))) {
        if (this.stopped) return;
        await yieldToLoop();
      }
    } finally {
      turns.close();
    }
  }

  /**
   * One admitted turn: reads a page sized by the gate's contention and sends it. While the
   * replay does not compete, the next page is read (and its data loaded) as this one is sent, and is sent in the
   * same turn: a replay alone streams back to back. A turn holds at most two pages at once.
   * True when there is more to replay.
   */
  async #turn(admission: Admission, pages: { size: number | null }): Promise<boolean> {
    if (this.stopped) return false;
    let limit = (pages.size = nextReplayPage(pages.size, admission.contended));
    let page = await this.#readPage(this.#cursor, limit);
    for (;;) {
      const more = page.length === limit;
      const nextLimit = nextReplayPage(limit, false);
      const ahead = more && !admission.contended ? this.#readPage(page.at(-1)!.id, nextLimit) : null;
      ahead?.catch(() => undefined); // awaited below, unless the stream ends first
      await this.#send(page);
      if (!ahead || this.stopped) return more;
      page = await ahead;
      limit = pages.size = nextLimit;
    }
  }

  /** The log's events after `afterId` in scope, their data already loading (`#send` awaits it). */
  async #readPage(afterId: number, limit: number): Promise<RoutedEvent[]> {
    const { log, scope, prepare } = this.options;
    const page = await withRetry(() => log.after(scope, afterId, limit), () => this.stopped);
    if (page.length > 0) prepare(page).catch(() => undefined); // a failure is retried by `#send`
    return page;
  }

  /** Sends events in order, skipping what was sent; stops the stream when one is refused. */
  async #send(events: readonly RoutedEvent[]): Promise<void> {
    // Events come in id order: when the first is new, all are (and the list keeps its
    // identity, so `prepare` finds the batch it already started for it).
    const fresh = events[0] && events[0].id > this.#cursor ? events : events.filter((e) => e.id > this.#cursor);
    if (fresh.length === 0 || this.stopped) return;
    try {
      await this.options.recheck?.();
    } catch (error) {
      this.#endWith = error as Error;
      throw error;
    }
    const refused = fresh.findIndex((e) => !this.options.authorize(e));
    const sendable = refused === -1 ? fresh : fresh.slice(0, refused);
    const prepared = await withRetry(() => this.options.prepare(sendable), () => this.stopped);
    let sliceStart = performance.now();
    for (let from = 0; from < sendable.length; from += HAND_OVER) {
      if (this.stopped) return;
      const pushed = pushSpans(sendable, from, Math.min(from + HAND_OVER, sendable.length));
      for (let i = from; i < Math.min(from + HAND_OVER, sendable.length); i++) {
        this.#cursor = sendable[i]!.id;
        this.options.onDeliver?.(sendable[i]!);
        this.handOver(prepared[i]!);
      }
      await this.taken();
      pushed?.();
      // A page's frames are executed and written in microtasks, which never let the event
      // loop go: a replay of thousands would hold every other socket's frames (and the
      // webhooks' acks) for hundreds of milliseconds. Past a slice, the rest waits a turn.
      if (performance.now() - sliceStart > SEND_SLICE_MS) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    if (refused !== -1) this.stop();
  }
}

/** Retries while the database is unreachable: up to ~30 s, with backoff. */
async function withRetry<T>(fn: () => Promise<T>, cancelled: () => boolean): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= 20 || cancelled()) throw error;
      await sleep(Math.min(100 * 2 ** attempt, 2000));
    }
  }
}

