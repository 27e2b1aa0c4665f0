/**
 * Outbound webhooks to partners (src/partners/): the endpoints admins register, one delivery
 * per event and endpoint, and every attempt at it. Tables of the API's own.
 */
import { sql } from "drizzle-orm";
import { bigint, bigserial, boolean, check, index, integer, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { consultationEvents } from "./api.schema.js";

const tz = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const PARTNER_DISABLED_REASONS = ["admin", "gone", "failing"] as const;

export const partnerEndpoints = pgTable(
  "partner_endpoints",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    url: text("url").notNull(),
    description: text("description").default("").notNull(),
    /** consultation_events types sent to it. */
    eventTypes: text("event_types").array().notNull(),
    enabled: boolean("enabled").default(true).notNull(),
    /** admin | gone (the partner answered 410) | failing (a delivery gave up with no success since its first attempt) */
    disabledReason: text("disabled_reason", { enum: PARTNER_DISABLED_REASONS }),
    disabledAt: tz("disabled_at"),
    /** The `whsec_` signing secret, sealed (AES-256-GCM, PARTNER_WEBHOOKS_SECRET_KEY): never stored in clear. */
    secret: text("secret").notNull(),
    /** The secret before the last rotation, sealed; also signs until `previous_secret_until`. */
    previousSecret: text("previous_secret"),
    previousSecretUntil: tz("previous_secret_until"),
    /** The durable cursor: every log event up to this id has its delivery (or is of a type not sent). */
    afterEventId: bigint("after_event_id", { mode: "number" }).notNull(),
    /** Events up to this id planned again by a replay: their deliveries say so. */
    replayThroughEventId: bigint("replay_through_event_id", { mode: "number" }),
    /** When the current run of failed attempts began; null after a success. */
    failingSince: tz("failing_since"),
    createdAt: tz("created_at").defaultNow().notNull(),
    updatedAt: tz("updated_at").defaultNow().notNull(),
  },
  (t) => [check("partner_endpoints_disabled_reason_check", sql`${t.disabledReason} IS NULL OR ${t.disabledReason} IN ('admin', 'gone', 'failing')`)],
);

export const PARTNER_DELIVERY_STATUSES = ["pending", "delivered", "failed", "cancelled"] as const;
export const PARTNER_DELIVERY_ORIGINS = ["event", "redelivery", "replay"] as const;

/**
 * One event to one endpoint. Pending ones are sent in event order per consultation (only the
 * `head` of each may go); a lease (`lease_until`, `lease_token`) says which instance is sending
 * it now.
 */
export const partnerDeliveries = pgTable(
  "partner_deliveries",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    endpointId: uuid("endpoint_id")
      .notNull()
      .references(() => partnerEndpoints.id, { onDelete: "cascade" }),
    eventId: bigint("event_id", { mode: "number" })
      .notNull()
      .references(() => consultationEvents.id),
    consultationId: uuid("consultation_id").notNull(),
    /** pending | delivered | failed (gave up) | cancelled (superseded by a replay) */
    status: text("status", { enum: PARTNER_DELIVERY_STATUSES }).default("pending").notNull(),
    origin: text("origin", { enum: PARTNER_DELIVERY_ORIGINS }).default("event").notNull(),
    /**
     * The oldest pending delivery of its consultation to its endpoint: the only one that may be
     * sent (order). Set when it is planned with none pending before it, or when the one before it
     * is delivered or given up.
     */
    head: boolean("head").default(false).notNull(),
    attempts: integer("attempts").default(0).notNull(),
    nextAttemptAt: tz("next_attempt_at").defaultNow().notNull(),
    leaseUntil: tz("lease_until"),
    leaseToken: uuid("lease_token"),
    firstAttemptAt: tz("first_attempt_at"),
    lastAttemptAt: tz("last_attempt_at"),
    lastStatusCode: integer("last_status_code"),
    lastErrorClass: text("last_error_class"),
    deliveredAt: tz("delivered_at"),
    createdAt: tz("created_at").defaultNow().notNull(),
  },
  (t) => [
    index("partner_deliveries_heads_idx").on(t.endpointId, t.eventId, t.id).where(sql`${t.status} = 'pending' and ${t.head}`),
    index("partner_deliveries_pending_consultation_idx").on(t.endpointId, t.consultationId, t.eventId).where(sql`${t.status} = 'pending'`),
    index("partner_deliveries_endpoint_idx").on(t.endpointId, t.id),
    index("partner_deliveries_event_idx").on(t.eventId),
    check("partner_deliveries_status_check", sql`${t.status} IN ('pending', 'delivered', 'failed', 'cancelled')`),
    check("partner_deliveries_origin_check", sql`${t.origin} IN ('event', 'redelivery', 'replay')`),
  ],
);

/** Every attempt at a delivery: what the partner answered, never its body. */
export const partnerDeliveryAttempts = pgTable(
  "partner_delivery_attempts",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    deliveryId: bigint("delivery_id", { mode: "number" })
      .notNull()
      .references(() => partnerDeliveries.id, { onDelete: "cascade" }),
    attempt: integer("attempt").notNull(),
    startedAt: tz("started_at").notNull(),
    durationMs: integer("duration_ms").notNull(),
    /** The HTTP status; null when none came (timeout, refused address, connection error). */
    statusCode: integer("status_code"),
    /** Null on a 2xx; else a bounded class (http_status, redirect, timeout, connect_timeout, address_refused, …). */
    errorClass: text("error_class"),
  },
  (t) => [index("partner_delivery_attempts_delivery_idx").on(t.deliveryId, t.attempt)],
);
