/**
 * A subscriber's stream: replay every event after `afterId` from the log, then go live, with
 * no gap and no duplicate. The live feed is joined before the replay starts and queued; one
 * loop sends everything in id order, dropping what was already sent. Each event is prepared
 * (its data loaded) before it is sent, retrying while the database is briefly away, so an
 * outage delays events instead of losing them.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { Repeater } from "@graphql-yoga/subscription";
import type { EventHub } from "./event-hub.js";
import type { EventLogRepo, EventScope, RoutedEvent } from "./event-log.repo.js";

/** A small first page gets the first frame out quickly; big pages then catch up in few queries. */
const FIRST_REPLAY_PAGE = 250;
const REPLAY_PAGE = 2000;

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
    /** Sends events in order, skipping what was sent; false when the stream must end. */
    const sendAll = async (events: readonly RoutedEvent[]): Promise<void> => {
      const fresh = events.filter((e) => e.id > cursor);
      if (fresh.length === 0 || stopped) return;
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
          const page = await withRetry(() => log.after(scope, cursor, size), () => stopped);
          await sendAll(page);
          if (page.length < size || stopped) break;
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
      stop();
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

