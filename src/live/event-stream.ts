/**
 * A subscriber's stream: replay every event after `afterId` from the log, then go live, with
 * no gap and no duplicate. The live feed is joined before the replay starts and queued; one
 * loop sends everything in id order, dropping what was already sent. Each event is prepared
 * (its data loaded) before it is sent, retrying while the database is briefly away, so an
 * outage delays events instead of losing them.
 *
 * Replays are bounded: pages are small, each page waits for admission (see ReplayGate) and
 * the stream yields to the event loop between pages, so many replays share the process
 * instead of one hogging it. The caller refuses resume points past the horizon beforehand.
 */
import { setImmediate as yieldToLoop, setTimeout as sleep } from "node:timers/promises";
import { Repeater } from "@graphql-yoga/subscription";
import type { EventHub } from "./event-hub.js";
import type { EventLogRepo, EventScope, RoutedEvent } from "./event-log.repo.js";

/**
 * A small first page gets the first frame out quickly; later pages are still small enough that
 * the events a process holds for replays stay bounded by its admission limit times this size.
 */
const FIRST_REPLAY_PAGE = 100;
const REPLAY_PAGE = 250;

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
   * queries, not one per event); retried with backoff while it fails.
   */
  prepare: (events: readonly RoutedEvent[]) => Promise<T[]>;
  /**
   * Runs before each batch is sent; what it throws ends the stream with that error (for
   * example: the user's rights changed). Other failures end the stream quietly.
   */
  recheck?: () => Promise<void>;
  /** Runs one replay page (read, prepare, send) when admitted; the default admits at once. */
  admit?: <R>(page: () => Promise<R>) => Promise<R>;
  onEnd?: () => void;
  /** Called as each event is handed to the client (metrics). */
  onDeliver?: (event: RoutedEvent) => void;
}

export function eventStream<T extends RoutedEvent>(options: StreamOptions<T>): AsyncIterableIterator<T> {
  const { hub, log, scope } = options;
  return new Repeater<T>(async (push, stop) => {
    let stopped = false;
    let wake: (() => void) | null = null;
    void stop.then(() => {
      stopped = true;
      wake?.();
    });
    let cursor = options.afterId ?? hub.lastId;
    const queued: RoutedEvent[] = [];
    const unsubscribe = hub.subscribe(scope, (events) => {
      queued.push(...events);
      wake?.();
    });
    let endWith: Error | undefined;
    const admit = options.admit ?? ((page) => page());
    /** Sends events in order, skipping what was sent; stops the stream when one is refused. */
    const sendAll = async (events: readonly RoutedEvent[]): Promise<void> => {
      const fresh = events.filter((e) => e.id > cursor);
      if (fresh.length === 0 || stopped) return;
      try {
        await options.recheck?.();
      } catch (error) {
        endWith = error as Error;
        throw error;
      }
      const allowed = fresh.findIndex((e) => !options.authorize(e));
      const sendable = allowed === -1 ? fresh : fresh.slice(0, allowed);
      const prepared = await withRetry(() => options.prepare(sendable), () => stopped);
      for (const [i, event] of sendable.entries()) {
        if (stopped) return;
        cursor = event.id;
        options.onDeliver?.(event);
        await push(prepared[i]!);
      }
      if (allowed !== -1) stop();
    };
    try {
      if (options.afterId !== null) {
        for (let size = FIRST_REPLAY_PAGE; ; size = REPLAY_PAGE) {
          const more = await admit(async () => {
            if (stopped) return false;
            const page = await withRetry(() => log.after(scope, cursor, size), () => stopped);
            await sendAll(page);
            return page.length === size;
          });
          if (!more || stopped) break;
          await yieldToLoop();
        }
      }
      while (!stopped) {
        if (queued.length > 0) {
          await sendAll(queued.splice(0));
          continue;
        }
        // Woken by new events or by stop (one waiter at a time, none left behind on `stop`).
        await new Promise<void>((resolve) => (wake = resolve));
        wake = null;
      }
    } catch {
      stop(endWith);
    } finally {
      unsubscribe();
      options.onEnd?.();
    }
  });
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

