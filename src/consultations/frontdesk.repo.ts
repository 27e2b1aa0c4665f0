/**
 * What a front desk reads beside a consultation: how it was closed (why the call ended, and
 * who never came), and the delay its doctor announced. Reads by consultation ids, for loaders
 * reached through a consultation the viewer could already see, and the delay's one write.
 */
import { and, eq, sql } from "drizzle-orm";
import { anyOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { callQuality as quality, consultationClosures as closures, consultationDelays as delays } from "../db/schema.js";
import type { QualityRow } from "./call-quality.js";
import type { ClosureFacts } from "./departures.js";

export type DelayRow = typeof delays.$inferSelect;
export type CallQualityRow = typeof quality.$inferSelect;

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

  delaysByIds(consultationIds: readonly string[]): Promise<DelayRow[]> {
    return this.db.select().from(delays).where(anyOf(delays.consultationId, consultationIds));
  }

  async delayOf(consultationId: string): Promise<DelayRow | null> {
    const [row] = await this.db.select().from(delays).where(eq(delays.consultationId, consultationId));
    return row ?? null;
  }

  /** The new delay, counted as one more announcement. */
  async announceDelay(consultationId: string, minutes: number, announcedBy: string | null, at: Date): Promise<DelayRow> {
    const [row] = await this.db
      .insert(delays)
      .values({ consultationId, minutes, announcedBy, announcedAt: at })
      .onConflictDoUpdate({ target: delays.consultationId, set: { minutes, announcedBy, announcedAt: at, announcements: sql`${delays.announcements} + 1` } })
      .returning();
    return row!;
  }

  qualityByIds(consultationIds: readonly string[]): Promise<CallQualityRow[]> {
    return this.db.select().from(quality).where(anyOf(quality.consultationId, consultationIds));
  }

  /** A side's row, locked until the transaction ends (its reports are serialised). */
  async lockQuality(consultationId: string, side: "doctor" | "patient"): Promise<CallQualityRow | null> {
    const [row] = await this.db.select().from(quality).where(and(eq(quality.consultationId, consultationId), eq(quality.side, side))).for("update");
    return row ?? null;
  }

  /** Writes a side's row; false when a concurrent first report won (this one is then throttled). */
  async saveQuality(consultationId: string, side: "doctor" | "patient", row: QualityRow, first: boolean): Promise<boolean> {
    if (first) {
      const inserted = await this.db.insert(quality).values({ consultationId, side, ...row }).onConflictDoNothing().returning({ side: quality.side });
      return inserted.length > 0;
    }
    await this.db.update(quality).set(row).where(and(eq(quality.consultationId, consultationId), eq(quality.side, side)));
    return true;
  }
}
