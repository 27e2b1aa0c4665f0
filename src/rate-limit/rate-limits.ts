/**
 * The API's rate-limit policies, on rate-limiter-flexible: in-process by default; with
 * RATE_LIMIT_STORE=postgres the counters live in the `rate_limits` table (RateLimiterDrizzle
 * over our drizzle handle, so postgres.js and embedded PGlite alike), shared by every
 * instance. Each policy allows its limit per 60-second window, counted from the window's
 * first hit; over it: RATE_LIMITED with a retry hint (seconds until the window ends).
 *
 * A store that fails (the table unreachable) rejects: every caller treats that as our fault
 * (INTERNAL_SERVER_ERROR, a 4500 close, a 503), never as a pass.
 */
import { RateLimiterDrizzle, RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitConfig } from "../config/config.js";
import type { Db } from "../db/client.js";
import { rateLimits as rateLimitsTable } from "../db/schema.js";
import { rateLimited } from "../kit/errors.js";

export interface RateDecision {
  allowed: boolean;
  retryAfterSeconds: number;
}

const WINDOW_SECONDS = 60;

export class RateLimits {
  readonly #mutations: RateLimiterAbstract;
  readonly #anonymous: RateLimiterAbstract;
  readonly #webhookFailures: RateLimiterAbstract;
  readonly #denials: RateLimiterMemory;

  constructor(config: RateLimitConfig, db: Db) {
    const limiter = (keyPrefix: string, points: number): RateLimiterAbstract =>
      config.store === "postgres"
        ? new RateLimiterDrizzle({ storeClient: db, schema: rateLimitsTable, keyPrefix, points, duration: WINDOW_SECONDS })
        : new RateLimiterMemory({ keyPrefix, points, duration: WINDOW_SECONDS });
    this.#mutations = limiter("mutation", config.mutationsPerMinute);
    this.#anonymous = limiter("anonymous", config.anonymousPerMinute);
    this.#webhookFailures = limiter("webhook-auth", config.webhookFailuresPerMinute);
    // In-process whatever the store: it is read before every operation of a signed-in user,
    // where a round trip to PostgreSQL would cost every request; one instance's count is
    // enough to stop one account flooding the trail through it.
    this.#denials = new RateLimiterMemory({ keyPrefix: "denials", points: config.denialsPerMinute, duration: WINDOW_SECONDS });
  }

  /** Counts one refused attempt of this user (another user's record, the wrong side or state). */
  async denied(userId: string): Promise<void> {
    await hit(this.#denials, userId);
  }

  /** Refuses (RATE_LIMITED) a user who spent the minute's budget of refused attempts. */
  async admitAfterDenials(userId: string): Promise<void> {
    const state = await this.#denials.get(userId);
    if (state && state.consumedPoints >= this.#denials.points) throw rateLimited(seconds(state.msBeforeNext));
  }

  /** Throws RATE_LIMITED when the user called this mutation too often. */
  async mutation(userId: string, action: string): Promise<void> {
    const decision = await hit(this.#mutations, `${action}:${userId}`);
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
  }

  /**
   * One attempt without a valid token from this IP: an HTTP request or a WebSocket
   * connection, which share one budget.
   */
  anonymous(clientIp: string | null): Promise<RateDecision> {
    return hit(this.#anonymous, clientIp ?? "unknown");
  }

  /** One failed webhook authentication, from this IP. */
  webhookFailure(clientIp: string | null): Promise<RateDecision> {
    return hit(this.#webhookFailures, clientIp ?? "unknown");
  }
}

/** Consumes one point; a store failure rejects (callers decide whether to fail open). */
async function hit(limiter: RateLimiterAbstract, key: string): Promise<RateDecision> {
  try {
    const result = await limiter.consume(key);
    return { allowed: true, retryAfterSeconds: seconds(result.msBeforeNext) };
  } catch (rejection) {
    if (rejection instanceof RateLimiterRes) return { allowed: false, retryAfterSeconds: seconds(rejection.msBeforeNext) };
    throw rejection;
  }
}

const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
