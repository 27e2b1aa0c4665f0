/** The audit trail's table: every access to patient data, and every attempt. */
import { sql } from "drizzle-orm";
import { bigserial, check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const AUDIT_OUTCOMES = ["allowed", "denied", "error"] as const;

/**
 * Every access to patient data, and every attempt: append-only (a trigger refuses UPDATE,
 * DELETE and TRUNCATE; see the migration). No names, tokens or payloads: ids only.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    occurredAt: tz("occurred_at").defaultNow().notNull(),
    /** users.id; null for the 100ms webhook sender and the API's own jobs. */
    actorId: uuid("actor_id"),
    /** patient | doctor | admin | webhook | system */
    actorRole: text("actor_role"),
    action: text("action").notNull(),
    /** The one consultation of the record; null on a record of several (`consultationIds`). */
    consultationId: uuid("consultation_id"),
    patientId: uuid("patient_id"),
    /**
     * A record of several consultations at once (one request's reads): their ids in the order
     * read, and at the same index each one's patient. Null on a record of one (or none).
     */
    consultationIds: uuid("consultation_ids").array(),
    patientIds: uuid("patient_ids").array(),
    outcome: text("outcome", { enum: AUDIT_OUTCOMES }).notNull(),
    /**
     * A denial record that stands for this many further refusals of the same action by the same
     * actor within one minute (audit/denial-folding.ts); null on every other record.
     */
    repeats: integer("repeats"),
    requestId: text("request_id"),
    clientIp: text("client_ip"),
    /** What a record is about when it is not a consultation: a partner endpoint's id. */
    targetId: uuid("target_id"),
  },
  (t) => [
    index("audit_events_consultation_idx").on(t.consultationId, t.id),
    index("audit_events_consultation_ids_idx").using("gin", t.consultationIds),
    index("audit_events_actor_idx").on(t.actorId, t.id),
    check("audit_events_outcome_check", sql`${t.outcome} IN ('allowed', 'denied', 'error')`),
    // One shape or the other; arrays paired and never empty (an empty one would list no event).
    check(
      "audit_events_subjects_check",
      sql`(${t.consultationIds} IS NULL AND ${t.patientIds} IS NULL) OR (${t.consultationIds} IS NOT NULL AND ${t.patientIds} IS NOT NULL AND ${t.consultationId} IS NULL AND ${t.patientId} IS NULL AND cardinality(${t.consultationIds}) > 0 AND cardinality(${t.consultationIds}) = cardinality(${t.patientIds}))`,
    ),
  ],
);
