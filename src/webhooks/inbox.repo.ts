/** The webhook inbox: raw events keyed by envelope id, stored before they are acknowledged. */
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { hmsWebhookEvents as inbox } from "../db/schema.js";
import type { Envelope } from "./envelope.js";

export type InboxOutcome = "applied" | "ignored" | "unknown_room" | "invalid_data" | "failed";
export type InboxRow = typeof inbox.$inferSelect;

export class InboxRepo {
  constructor(private readonly db: Db) {}

  /** True when this delivery is the first with its id. */
  async store(envelope: Envelope): Promise<boolean> {
    const roomId = typeof envelope.data.room_id === "string" ? envelope.data.room_id.slice(0, 200) : null;
    const rows = await this.db
      .insert(inbox)
      .values({ id: envelope.id, type: envelope.type, roomId, sentAt: new Date(envelope.timestamp), payload: envelope })
      .onConflictDoNothing()
      .returning({ id: inbox.id });
    return rows.length > 0;
  }

  async isProcessed(id: string): Promise<boolean> {
    const [row] = await this.db.select({ at: inbox.processedAt }).from(inbox).where(eq(inbox.id, id));
    return row?.at != null;
  }

  async markProcessed(id: string, outcome: InboxOutcome): Promise<void> {
    await this.db
      .update(inbox)
      .set({ processedAt: new Date(), outcome, attempts: sql`${inbox.attempts} + 1` })
      .where(eq(inbox.id, id));
  }

  async markFailed(id: string): Promise<void> {
    await this.db.update(inbox).set({ attempts: sql`${inbox.attempts} + 1`, outcome: "failed" }).where(eq(inbox.id, id));
  }

  /** Oldest unprocessed first, skipping rows that keep failing. */
  unprocessed(limit: number, maxAttempts = 10): Promise<InboxRow[]> {
    return this.db
      .select()
      .from(inbox)
      .where(and(isNull(inbox.processedAt), sql`${inbox.attempts} < ${maxAttempts}`))
      .orderBy(asc(inbox.receivedAt))
      .limit(limit);
  }
}
