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
  PARTICIPANT_JOIN_FAILED: "consultation.participant_join_failed",
  NO_SHOW: "consultation.no_show",
  RUNNING_LATE: "consultation.running_late",
  CALL_QUALITY_CHANGED: "consultation.call_quality_changed",
};

export type PartnerEventSource = Pick<EventRow, "id" | "consultationId" | "type" | "occurredAt" | "status" | "previousStatus" | "side" | "prescriptionId" | "retractsId" | "leaveCause" | "delayMinutes" | "qualityScore">;

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

/**
 * What the event changed, by type: statuses, a side (DOCTOR / PATIENT) and why it left (a
 * `LeaveReason`, never 100ms's text), an id, a delay in minutes, a quality score. A no-show's
 * detail (who never came) is read through the schema (`Consultation.noShow`).
 */
function changedBy(event: PartnerEventSource): Record<string, string | null> {
  switch (event.type) {
    case "STATUS_CHANGED":
      return { previousStatus: upper(event.previousStatus), status: upper(event.status) };
    case "PARTICIPANT_LEFT":
      return { side: upper(event.side), reason: upper(event.leaveCause) };
    case "PARTICIPANT_JOINED":
    case "PARTICIPANT_OFFLINE":
    case "PARTICIPANT_JOIN_FAILED":
      return { side: upper(event.side) };
    case "NO_SHOW":
      return {};
    case "RUNNING_LATE":
      return { delayMinutes: event.delayMinutes === null ? null : String(event.delayMinutes) };
    case "CALL_QUALITY_CHANGED":
      return { side: upper(event.side), score: event.qualityScore === null ? null : String(event.qualityScore) };
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
