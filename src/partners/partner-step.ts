/**
 * One look of a lane at its endpoint: record the attempts that finished since the last look,
 * plan the log's new events when it may have grown, lease the due deliveries; in one
 * transaction (one commit however many attempts it records), or, with nothing to record or
 * plan, in the lease's one statement. On PostgreSQL the lanes' pool does not wait for the WAL
 * to reach the disk at commit (app.ts): a database crash may forget the last moments of this
 * bookkeeping, which at worst sends a delivery again once its lease has ended, or plans events
 * again (a plan and its cursor move commit together). Delivery is at least once either way.
 */
import type { Db } from "../db/client.js";
import { PartnerDeliveryRepo, type AttemptRecord, type Claimed, type ClaimedBatch, type Outcome } from "./partner-delivery.repo.js";

/** An attempt made, to be recorded. */
export interface Finished {
  claimed: Claimed;
  token: string;
  attempt: AttemptRecord;
  outcome: Outcome;
}

export interface StepInput {
  endpointId: string;
  finished: readonly Finished[];
  plan: boolean;
  /** Lease this many at most (0: record only); and for how long. */
  concurrency: number;
  leaseMs: number;
  token: string;
}

export interface StepResult {
  /** Per finished attempt, why it disabled the endpoint, if it did. */
  disabled: Array<"gone" | "failing" | null>;
  /** Null when no plan ran (not asked, or the endpoint is disabled); true when more events may wait. */
  more: boolean | null;
  batch: ClaimedBatch;
}

export async function step(db: Db, input: StepInput): Promise<StepResult> {
  const { endpointId, concurrency, leaseMs, token } = input;
  const none: ClaimedBatch = { endpoint: null, items: [] };
  if (input.finished.length === 0 && !input.plan) return { disabled: [], more: null, batch: await new PartnerDeliveryRepo(db).claim(endpointId, concurrency, leaseMs, token) };
  return db.transaction(async (tx) => {
    const repo = new PartnerDeliveryRepo(tx);
    // Issued together, run in this order: one round trip for the lot (postgres.js pipelines a
    // transaction's statements). The lock first, so that each later statement reads what
    // another instance's look committed; the claim sees what the records released and the plan made.
    const lock = repo.lockEndpoint(endpointId);
    const records = Promise.all(input.finished.map((f) => repo.record(endpointId, f.claimed, f.token, f.attempt, f.outcome)));
    const plan = input.plan ? repo.plan(endpointId) : Promise.resolve(null);
    const claim = concurrency > 0 ? repo.claim(endpointId, concurrency, leaseMs, token) : Promise.resolve(none);
    const [, disabled, more, batch] = await Promise.all([lock, records, plan, claim]);
    return { disabled, more, batch };
  });
}
