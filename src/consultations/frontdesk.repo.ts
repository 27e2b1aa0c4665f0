/**
 * What a front desk reads beside a consultation: how it was closed (why the call ended, and
 * who never came). Reads by consultation ids, for loaders reached through a consultation the
 * viewer could already see.
 */
import { anyOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { consultationClosures as closures } from "../db/schema.js";
import type { ClosureFacts } from "./departures.js";

export type ClosureRow = ClosureFacts & { consultationId: string; closedAt: Date; noShow: "doctor" | "patient" | "both" | null; waitedSeconds: number | null };

export class FrontDeskRepo {
  constructor(private readonly db: Db) {}

  closuresByIds(consultationIds: readonly string[]): Promise<ClosureRow[]> {
    return this.db
      .select({
        consultationId: closures.consultationId,
        outcome: closures.outcome,
        cause: closures.cause,
        closedByUserId: closures.closedByUserId,
        reason: closures.reason,
        closedAt: closures.closedAt,
        noShow: closures.noShow,
        waitedSeconds: closures.waitedSeconds,
      })
      .from(closures)
      .where(anyOf(closures.consultationId, consultationIds));
  }
}
