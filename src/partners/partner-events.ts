/**
 * What a partner receives: the event log's types under partner names, and thin payloads
 * (Standard Webhooks' `{ type, timestamp, data }`): the event's id, type, consultation id and
 * status, when it happened and the fields it changed. Never names, prescription text or
 * tokens; a partner reads the rest through the schema with its own token.
 */
import { encodeEventId } from "../consultations/event-cursor.js";
import type { EventRow } from "../live/event-log.repo.js";
import type { CONSULTATION_EVENT_TYPES } from "../db/schema.js";

export type LogEventType = (typeof CONSULTATION_EVENT_TYPES)[number];

/** The `type` of each log event as partners receive it. */
export const PARTNER_EVENT_NAMES: Record<LogEventType, string> = {
  STATUS_CHANGED: "consultation.status_changed",
  PARTICIPANT_JOINED: "consultation.participant_joined",
  PARTICIPANT_LEFT: "consultation.participant_left",
  PARTICIPANT_OFFLINE: "consultation.participant_offline",
  PRESCRIPTION_CREATED: "consultation.prescription_created",
  EVENT_RETRACTED: "consultation.event_retracted",
};

export type PartnerEventSource = Pick<EventRow, "id" | "consultationId" | "type" | "occurredAt" | "status" | "previousStatus" | "side" | "prescriptionId" | "retractsId">;

export interface PartnerPayload {
  type: string;
  /** When the event happened (ISO-8601, UTC). */
  timestamp: string;
  data: {
    /** The event's id (`ConsultationEvent.id`), also the `webhook-id` header. */
    eventId: string;
    consultationId: string;
    /** The consultation's status right after the event (ConsultationStatus). */
    status: string;
    occurredAt: string;
    /** Only what the event changed. */
    changed: Record<string, string | null>;
  };
}

const upper = (value: string | null): string | null => (value === null ? null : value.toUpperCase());

/** What the event changed, by type: statuses, a side (DOCTOR / PATIENT), or an id. */
function changedBy(event: PartnerEventSource): Record<string, string | null> {
  switch (event.type) {
    case "STATUS_CHANGED":
      return { previousStatus: upper(event.previousStatus), status: upper(event.status) };
    case "PARTICIPANT_JOINED":
    case "PARTICIPANT_LEFT":
    case "PARTICIPANT_OFFLINE":
      return { side: upper(event.side) };
    case "PRESCRIPTION_CREATED":
      return { prescriptionId: event.prescriptionId };
    case "EVENT_RETRACTED":
      return { retracts: event.retractsId === null ? null : encodeEventId(event.retractsId) };
  }
}

export function partnerPayload(event: PartnerEventSource): PartnerPayload {
  const occurredAt = event.occurredAt.toISOString();
  return {
    type: PARTNER_EVENT_NAMES[event.type],
    timestamp: occurredAt,
    data: {
      eventId: encodeEventId(event.id),
      consultationId: event.consultationId,
      status: event.status.toUpperCase(),
      occurredAt,
      changed: changedBy(event),
    },
  };
}
