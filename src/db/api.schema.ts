/** Tables of the API's own (never the clinic's). */
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
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

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

/**
 * Every 100ms webhook as received, keyed by the envelope id: stored before the 200, so a
 * delivery that was acknowledged is never lost, and a duplicate delivery changes nothing.
 */
export const hmsWebhookEvents = pgTable(
  "hms_webhook_events",
  {
    id: text("id").primaryKey(),
    type: text("type").notNull(),
    roomId: text("room_id"),
    /** The envelope's `timestamp`. */
    sentAt: tz("sent_at").notNull(),
    receivedAt: tz("received_at").defaultNow().notNull(),
    payload: jsonb("payload").notNull(),
    /** Null until applied; the reconciler retries rows left unprocessed. */
    processedAt: tz("processed_at"),
    /** applied | ignored | unknown_room | failed */
    outcome: text("outcome"),
    attempts: integer("attempts").default(0).notNull(),
  },
  (t) => [
    index("hms_webhook_events_unprocessed_idx").on(t.receivedAt).where(sql`${t.processedAt} IS NULL`),
    // By room, newest last: a room's last delivery is one index entry, however long its history.
    index("hms_webhook_events_room_received_idx").on(t.roomId, t.receivedAt),
  ],
);

/** One 100ms peer connection (a new `peer_id` on every join) of a consultation's room. */
export const hmsPeerConnections = pgTable(
  "hms_peer_connections",
  {
    peerId: text("peer_id").primaryKey(),
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => videoConsultations.id),
    sessionId: text("session_id"),
    /** 100ms `user_id`: our users.id for peers that joined with our tokens. */
    userId: text("user_id"),
    role: text("role"),
    /** The side this connection counts for; null for a peer that is neither (flagged). */
    side: text("side", { enum: ["doctor", "patient"] }),
    flagged: boolean("flagged").default(false).notNull(),
    joinedAt: tz("joined_at"),
    /** True while `joined_at` is the API's inference (the reconciler's); a reported time replaces it. */
    joinedInferred: boolean("joined_inferred").default(false).notNull(),
    leftAt: tz("left_at"),
    /** True while `left_at` is the API's inference (not in 100ms's active peers); a reported time replaces it. */
    leftInferred: boolean("left_inferred").default(false).notNull(),
    leftReason: text("left_reason"),
    /** Who first recorded the connection: webhook | reconcile */
    source: text("source").default("webhook").notNull(),
    updatedAt: tz("updated_at").defaultNow().notNull(),
  },
  (t) => [index("hms_peer_connections_consultation_idx").on(t.consultationId)],
);

/** 100ms sessions (first join to last leave) and room ends, as their webhooks report them. */
export const hmsSessions = pgTable(
  "hms_sessions",
  {
    sessionId: text("session_id").primaryKey(),
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => videoConsultations.id),
    startedAt: tz("started_at"),
    stoppedAt: tz("stopped_at"),
    /** When `room.end.success` ended this session (the doctor, or the API, ended the call). */
    roomEndedAt: tz("room_ended_at"),
  },
  (t) => [index("hms_sessions_consultation_idx").on(t.consultationId)],
);

/** Live presence and connected time of a consultation, derived from its peer connections. */
export const consultationLive = pgTable("consultation_live", {
  consultationId: uuid("consultation_id")
    .primaryKey()
    .references(() => videoConsultations.id),
  doctorOnline: boolean("doctor_online").default(false).notNull(),
  doctorPeerId: text("doctor_peer_id"),
  doctorJoinedAt: tz("doctor_joined_at"),
  doctorLeftAt: tz("doctor_left_at"),
  patientOnline: boolean("patient_online").default(false).notNull(),
  patientPeerId: text("patient_peer_id"),
  patientJoinedAt: tz("patient_joined_at"),
  patientLeftAt: tz("patient_left_at"),
  /** Why the side's last connection left (100ms's `reason`); null while online or when a session close ended it. */
  doctorLeftReason: text("doctor_left_reason"),
  patientLeftReason: text("patient_left_reason"),
  /** A side whose last connection dropped for a network reason is RECONNECTING until then (null: it was not). */
  doctorReconnectingUntil: tz("doctor_reconnecting_until"),
  patientReconnectingUntil: tz("patient_reconnecting_until"),
  /** Milliseconds both sides were in the room, over overlaps that have ended. */
  connectedMs: bigint("connected_ms", { mode: "number" }).default(0).notNull(),
  /** Both sides have been in the room since then (null unless both are in now). */
  bothSince: tz("both_since"),
  updatedAt: tz("updated_at").defaultNow().notNull(),
});

export const CONSULTATION_EVENT_TYPES = ["PARTICIPANT_JOINED", "PARTICIPANT_LEFT", "PARTICIPANT_OFFLINE", "STATUS_CHANGED", "PRESCRIPTION_CREATED", "EVENT_RETRACTED"] as const;

/**
 * The durable, ordered log of everything a screen should see. `id` orders it (appends are
 * serialised so ids commit in order); `dedupe_key` makes every append idempotent.
 */
export const consultationEvents = pgTable(
  "consultation_events",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    consultationId: uuid("consultation_id")
      .notNull()
      .references(() => videoConsultations.id),
    type: text("type", { enum: CONSULTATION_EVENT_TYPES }).notNull(),
    occurredAt: tz("occurred_at").notNull(),
    /** The consultation's status right after this event. */
    status: text("status", { enum: ["pending", "active", "completed", "cancelled"] }).notNull(),
    previousStatus: text("previous_status", { enum: ["pending", "active", "completed", "cancelled"] }),
    side: text("side", { enum: ["doctor", "patient"] }),
    peerId: text("peer_id"),
    /** For PARTICIPANT_LEFT: when that side had joined. */
    joinedAt: tz("joined_at"),
    /** For PARTICIPANT_LEFT and PARTICIPANT_OFFLINE: 100ms's reason for the leave (null when a session close ended it). */
    leftReason: text("left_reason"),
    prescriptionId: uuid("prescription_id"),
    /** For EVENT_RETRACTED: the event that later facts showed did not happen (as logged). */
    retractsId: bigint("retracts_id", { mode: "number" }),
    dedupeKey: text("dedupe_key").notNull(),
    createdAt: tz("created_at").defaultNow().notNull(),
  },
  (t) => [
    unique("consultation_events_dedupe_key").on(t.consultationId, t.dedupeKey),
    index("consultation_events_consultation_idx").on(t.consultationId, t.id),
    index("consultation_events_retracts_idx").on(t.retractsId).where(sql`${t.retractsId} IS NOT NULL`),
    check(
      "consultation_events_type_check",
      sql`${t.type} IN ('PARTICIPANT_JOINED', 'PARTICIPANT_LEFT', 'PARTICIPANT_OFFLINE', 'STATUS_CHANGED', 'PRESCRIPTION_CREATED', 'EVENT_RETRACTED')`,
    ),
  ],
);

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

/** A retried createPrescription with the same key returns the first prescription. */
export const prescriptionRequests = pgTable(
  "prescription_requests",
  {
    doctorId: uuid("doctor_id").notNull(),
    idempotencyKey: text("idempotency_key").notNull(),
    prescriptionId: uuid("prescription_id").notNull(),
    createdAt: tz("created_at").defaultNow().notNull(),
  },
  (t) => [unique("prescription_requests_key").on(t.doctorId, t.idempotencyKey)],
);

/**
 * Rate-limit counters when they are shared across instances (RATE_LIMIT_STORE=postgres), in
 * the shape rate-limiter-flexible's RateLimiterDrizzle reads and writes: one row per
 * `<policy>:<subject>` key, `points` used in the window that ends at `expire`.
 */
export const rateLimits = pgTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    points: integer("points").notNull(),
    expire: tz("expire"),
  },
  (t) => [index("rate_limits_expire").on(t.expire)],
);
