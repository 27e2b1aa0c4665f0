/** The API's rate-limit policies, over one limiter (in-process or shared via PostgreSQL). */
import type { RateLimitConfig } from "../config.js";
import type { Db } from "../db/client.js";
import { rateLimited } from "../errors.js";
import { MemoryCounterStore, PostgresCounterStore, RateLimiter, type RateDecision } from "./rate-limiter.js";

export class RateLimits {
  readonly #limiter: RateLimiter;

  constructor(
    private readonly config: RateLimitConfig,
    db: Db,
  ) {
    this.#limiter = new RateLimiter(config.store === "postgres" ? new PostgresCounterStore(db) : new MemoryCounterStore());
  }

  /** Throws RATE_LIMITED when the user called this mutation too often. */
  async mutation(userId: string, action: string): Promise<void> {
    const decision = await this.#limiter.hit(`mutation:${action}:${userId}`, this.config.mutationsPerMinute);
    if (!decision.allowed) throw rateLimited(decision.retryAfterSeconds);
  }

  /** One request without a valid token, from this IP. */
  anonymous(clientIp: string | null): Promise<RateDecision> {
    return this.#limiter.hit(`anonymous:${clientIp ?? "unknown"}`, this.config.anonymousPerMinute);
  }

  /** One failed webhook authentication, from this IP. */
  webhookFailure(clientIp: string | null): Promise<RateDecision> {
    return this.#limiter.hit(`webhook-auth:${clientIp ?? "unknown"}`, this.config.webhookFailuresPerMinute);
  }
}
