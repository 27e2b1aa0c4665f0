/** The API's own tables for the front desk: a doctor running late. Never the clinic's. */
import { sql } from "drizzle-orm";
import { check, integer, pgTable, timestamp, uuid } from "drizzle-orm/pg-core";
import { videoConsultations } from "./legacy.schema.js";

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/** The delay the doctor (or an admin) announced for a consultation that has not started: one row, the latest. */
export const consultationDelays = pgTable(
  "consultation_delays",
  {
    consultationId: uuid("consultation_id")
      .primaryKey()
      .references(() => videoConsultations.id),
    /** Minutes after the booked start the call is now expected to start (0: back on time). */
    minutes: integer("minutes").notNull(),
    /** How many announcements were made (bounded). */
    announcements: integer("announcements").default(1).notNull(),
    announcedBy: uuid("announced_by"),
    announcedAt: tz("announced_at").defaultNow().notNull(),
  },
  (t) => [check("consultation_delays_minutes_check", sql`${t.minutes} BETWEEN 0 AND 120`)],
);
