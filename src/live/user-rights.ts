/**
 * Each user's rights as last read from the users row (their Viewer, or null once the user is
 * gone), trusted for `ttlMs`: what open streams re-check before each send
 * (consultation-events.service.ts), read at most once per `ttlMs` per user however many streams
 * the user has open. Streams opened together (a thousand admins after a reconnect) find their
 * users' rights stale together, at the same event: the re-reads asked for in one turn of the
 * event loop are one statement (a DataLoader batch), not one per user queued ahead of that
 * event's frames.
 */
import DataLoader from "dataloader";
import { LRUCache, type Perf } from "lru-cache";
import type { FindViewers } from "../auth/authenticate.js";
import type { Viewer } from "../auth/viewer.js";

/** Users re-read in one statement at most (an array parameter of their ids). */
const MAX_BATCH = 1_000;

export class UserRights {
  readonly #cache: LRUCache<string, { viewer: Viewer | null }>;

  /** @param clock for tests only: the time the trust is measured in (staleness then checked at every read) */
  constructor(findViewers: FindViewers, ttlMs: number, clock?: Perf) {
    // The LRU is the only cache: the loader only batches.
    const viewers = new DataLoader<string, Viewer | null>((ids) => findViewers(ids), { cache: false, maxBatchSize: MAX_BATCH });
    this.#cache = new LRUCache({
      max: 10_000,
      ttl: ttlMs,
      fetchMethod: async (userId) => ({ viewer: await viewers.load(userId) }),
      ...(clock ? { perf: clock, ttlResolution: 0 } : {}),
    });
  }

  /** A viewer as just read (a stream's start): trusted for the next `ttlMs`. */
  remember(viewer: Viewer): void {
    this.#cache.set(viewer.userId, { viewer });
  }

  /** The user's current Viewer (null: no such user any more), re-read once older than `ttlMs`. */
  async current(userId: string): Promise<Viewer | null> {
    return (await this.#cache.fetch(userId))?.viewer ?? null;
  }
}
