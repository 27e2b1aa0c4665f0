/** The API's own tables for the front desk: a doctor running late, call quality. Never the clinic's. */
import { sql } from "drizzle-orm";
import { bigint, check, integer, pgTable, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";
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

/**
 * Call quality as each side's app reports it (0-5, hmssdk_flutter's network quality), kept as
 * a running summary per side: one row each, whatever the call's length. A score holds from its
 * report until the next one (or the call's end): `reported_ms` and `poor_ms` add up the segments
 * closed so far, the open one (from `last_at`, at `latest`) is added when read.
 */
export const callQuality = pgTable(
  "call_quality",
  {
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => videoConsultations.id),
    side: text("side", { enum: ["doctor", "patient"] }).notNull(),
    latest: integer("latest").notNull(),
    lowest: integer("lowest").notNull(),
    reports: integer("reports").default(1).notNull(),
    firstAt: tz("first_at").notNull(),
    /** The last write: the throttle counts from it. */
    lastAt: tz("last_at").notNull(),
    reportedMs: bigint("reported_ms", { mode: "number" }).default(0).notNull(),
    /** Of `reported_ms`, at a score of 2 or less. */
    poorMs: bigint("poor_ms", { mode: "number" }).default(0).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.consultationId, t.side] }),
    check("call_quality_scores_check", sql`${t.latest} BETWEEN 0 AND 5 AND ${t.lowest} BETWEEN 0 AND 5`),
  ],
);
