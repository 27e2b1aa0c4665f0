/** Tables of the API's own (never the clinic's). */
import { sql } from "drizzle-orm";
import { check, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { videoConsultations } from "./legacy.schema.js";

/**
 * Who closed a consultation, how and why. The legacy table has no place for a cancel
 * reason or the closing user, and its `notes` column belongs to the clinic.
 */
export const consultationClosures = pgTable(
  "consultation_closures",
  {
    consultationId: uuid("consultation_id")
      .primaryKey()
      .references(() => videoConsultations.id),
    outcome: text("outcome", { enum: ["completed", "cancelled"] }).notNull(),
    /** Null when the API itself closed it (no-show expiry, completion after the grace period). */
    closedByUserId: uuid("closed_by_user_id"),
    reason: text("reason"),
    closedAt: timestamp("closed_at", { withTimezone: true, mode: "date" }).defaultNow().notNull(),
  },
  (t) => [check("consultation_closures_outcome_check", sql`${t.outcome} IN ('completed', 'cancelled')`)],
);
