/**
 * Fixed-window rate limits. In-process by default; with RATE_LIMIT_STORE=postgres the
 * counters live in PostgreSQL, so every instance shares them. Over the limit: RATE_LIMITED
 * with a retry hint (seconds until the window resets).
 */
import { lt, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { rateLimitCounters as counters } from "../db/schema.js";

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

export interface CounterStore {
  /** Adds one to `key` in the window starting at `windowStart`; returns the new count. */
  increment(key: string, windowStart: Date): Promise<number>;
}

export class MemoryCounterStore implements CounterStore {
  readonly #counts = new Map<string, { windowStart: number; count: number }>();

  async increment(key: string, windowStart: Date): Promise<number> {
    const start = windowStart.getTime();
    const current = this.#counts.get(key);
    const count = current && current.windowStart === start ? current.count + 1 : 1;
    this.#counts.set(key, { windowStart: start, count });
    if (this.#counts.size > 100_000) this.#sweep(start);
    return count;
  }

  #sweep(currentWindow: number): void {
    for (const [key, value] of this.#counts) if (value.windowStart < currentWindow) this.#counts.delete(key);
  }
}

export class PostgresCounterStore implements CounterStore {
  #lastSweep = 0;

  constructor(private readonly db: Db) {}

  async increment(key: string, windowStart: Date): Promise<number> {
    const [row] = await this.db
      .insert(counters)
      .values({ key, windowStart, count: 1 })
      .onConflictDoUpdate({ target: [counters.key, counters.windowStart], set: { count: sql`${counters.count} + 1` } })
      .returning({ count: counters.count });
    if (Date.now() - this.#lastSweep > 60_000) {
      this.#lastSweep = Date.now();
      await this.db.delete(counters).where(lt(counters.windowStart, new Date(windowStart.getTime() - 3_600_000)));
    }
    return row?.count ?? 1;
  }
}

export class RateLimiter {
  constructor(
    private readonly store: CounterStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Counts one hit on `key`, allowing `limit` per `windowSeconds`. */
  async hit(key: string, limit: number, windowSeconds = 60): Promise<RateDecision> {
    const now = this.now().getTime();
    const windowMs = windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const count = await this.store.increment(key, new Date(windowStart));
    return { allowed: count <= limit, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + windowMs - now) / 1000)) };
  }
}
