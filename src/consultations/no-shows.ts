/**
 * No-shows by side: when the join window closes and the call never became ACTIVE, which side
 * never joined, and how long the other spent waiting in the room. Pure: a function of the
 * connection facts, the session closes and the window's close, so delivery order does not
 * change it. The clinic's appointment becomes `no_show` only when the patient never came;
 * a doctor who never came leaves it `cancelled` (the patient is not billed for the doctor's absence).
 */
import type { AppointmentStatus } from "../clinic/clinic.model.js";
import type { NewEvent } from "../live/event-log.repo.js";
import { deriveTimeline, SIDES, type ConnectionFact, type Side } from "./presence.js";

export type NoShowSide = Side | "both";

export interface NoShow {
  /** The side that never joined; null when both came (at different times, never together). */
  absent: NoShowSide | null;
  /** Milliseconds the side that came spent in the room before the window closed (0 when both stayed away). */
  waitedMs: number;
}

/** What the facts say at the window's close `closesAt`. */
export function noShowOf(connections: readonly ConnectionFact[], closes: readonly Date[], closesAt: Date): NoShow {
  const timeline = deriveTimeline(connections.filter((c) => c.joinedAt !== null && c.joinedAt < closesAt), closes);
  const inRoom = {} as Record<Side, number>;
  const came = {} as Record<Side, boolean>;
  for (const side of SIDES) {
    const own = timeline.transitions.filter((t) => t.side === side);
    came[side] = own.some((t) => t.kind === "joined");
    inRoom[side] = own.reduce((sum, t, i) => {
      if (t.kind !== "joined") return sum;
      const end = own.slice(i + 1).find((n) => n.kind === "left")?.at.getTime() ?? closesAt.getTime();
      return sum + Math.max(0, Math.min(end, closesAt.getTime()) - t.at.getTime());
    }, 0);
  }
  if (came.doctor && came.patient) return { absent: null, waitedMs: 0 };
  if (!came.doctor && !came.patient) return { absent: "both", waitedMs: 0 };
  const absent: Side = came.doctor ? "patient" : "doctor";
  return { absent, waitedMs: inRoom[absent === "doctor" ? "patient" : "doctor"] };
}

/** The clinic's appointment status for an expired consultation: a no-show only when the patient never came. */
export function appointmentStatusOf(noShow: NoShow): AppointmentStatus {
  return noShow.absent === "patient" || noShow.absent === "both" ? "no_show" : "cancelled";
}

/** The closure's reason, in words (audit and the clinic's staff). */
export function noShowReason(noShow: NoShow): string {
  const minutes = Math.round(noShow.waitedMs / 60_000);
  switch (noShow.absent) {
    case "both":
      return "no-show: the join window closed with nobody in the room";
    case "doctor":
      return `no-show: the doctor never joined; the patient waited ${minutes} min`;
    case "patient":
      return `no-show: the patient never joined; the doctor waited ${minutes} min`;
    case null:
      return "no-show: doctor and patient joined at different times and never met";
  }
}

/** What 100ms tells a side still in the room when the API ends it at expiry. */
export function expiryRoomReason(noShow: NoShow): string {
  return noShow.absent === "doctor" ? "The doctor could not join; the consultation was cancelled" : "The join window closed; the consultation was cancelled";
}

/** NO_SHOW in the timeline, beside the STATUS_CHANGED of the expiry (who never came: `Consultation.noShow`). */
export function noShowEvent(c: { id: string }, at: Date): NewEvent {
  return { consultationId: c.id, type: "NO_SHOW", occurredAt: at, status: "cancelled", dedupeKey: "no_show" };
}
