/**
 * The one home of a refusal (another user's consultation, the wrong side, the wrong state),
 * whichever transport and use case met it: it goes on the audit trail (folded when it repeats,
 * denial-folding.ts) and spends the user's budget of refusals (RATE_LIMIT_DENIALS_PER_MINUTE),
 * past which request-pipeline.ts answers RATE_LIMITED before running anything.
 */
import type { RateLimits } from "../rate-limit/rate-limits.js";
import type { AuditWriter } from "./audit-writer.js";
import { entry, subjectId, type Actor } from "./audit.model.js";

export class Denials {
  constructor(
    private readonly audit: AuditWriter,
    private readonly rateLimits: RateLimits,
  ) {}

  /** `consultationId` as the caller gave it: kept only when it is a uuid (lower-cased). */
  record(actor: Actor, action: string, consultationId: string | null): void {
    this.audit.deny(entry(actor, action, { consultationId: subjectId(consultationId) }, "denied"));
    if (actor.userId) void this.rateLimits.denied(actor.userId);
  }
}
