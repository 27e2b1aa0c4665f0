/**
 * The consultation lifecycle as a pure state machine, the only place a status transition is
 * decided (commands, webhooks, the reconciler and completion timers all ask it):
 *
 *   PENDING --both sides in the room--> ACTIVE --call over (session closed / doctor ends)--> COMPLETED
 *   PENDING --cancel / no-show expiry--> CANCELLED
 *   PENDING --doctor ends--> COMPLETED        (the doctor may close a call nobody joined)
 *
 * Anything else is INVALID_STATE. Repeating the action that produced the current state
 * (ending a COMPLETED consultation, cancelling a CANCELLED one) is not an error but a no-op,
 * so that a client's retry after a lost response gets the same answer.
 */
import { AppError } from "../kit/errors.js";
import type { NewEvent } from "../live/event-log.repo.js";
import type { ConsultationRecord, ConsultationStatus } from "./consultation.model.js";

export type LifecycleAction =
  /** Doctor and patient are in the room together for the first time. */
  | "bothJoined"
  /** 100ms closed the session and the grace period passed with nobody back. */
  | "callFinished"
  /** The doctor ends the call for both sides. */
  | "endByDoctor"
  /** Doctor, patient or admin cancels before the call started. */
  | "cancel"
  /** The join window closed with nobody having joined. */
  | "expire";

export const LIFECYCLE_ACTIONS: readonly LifecycleAction[] = ["bothJoined", "callFinished", "endByDoctor", "cancel", "expire"];
export const CONSULTATION_STATUSES: readonly ConsultationStatus[] = ["pending", "active", "completed", "cancelled"];

export type Transition = { to: ConsultationStatus; changed: true } | { to: ConsultationStatus; changed: false };

const TABLE: Record<ConsultationStatus, Partial<Record<LifecycleAction, ConsultationStatus>>> = {
  pending: { bothJoined: "active", endByDoctor: "completed", cancel: "cancelled", expire: "cancelled" },
  active: { callFinished: "completed", endByDoctor: "completed" },
  completed: {},
  cancelled: {},
};

/** Actions that are a no-op (not an error) when the consultation is already where they lead. */
const IDEMPOTENT: Partial<Record<LifecycleAction, ConsultationStatus>> = {
  endByDoctor: "completed",
  callFinished: "completed",
  cancel: "cancelled",
  expire: "cancelled",
  bothJoined: "active",
};

/** Where `action` takes a consultation in `from`; throws INVALID_STATE when it may not. */
export function transition(from: ConsultationStatus, action: LifecycleAction): Transition {
  const to = TABLE[from][action];
  if (to !== undefined) return { to, changed: true };
  if (IDEMPOTENT[action] === from) return { to: from, changed: false };
  throw new AppError("INVALID_STATE", `Cannot ${describe(action)} a ${from} consultation`, { status: from.toUpperCase() });
}

function describe(action: LifecycleAction): string {
  switch (action) {
    case "bothJoined":
      return "start";
    case "callFinished":
    case "endByDoctor":
      return "end";
    case "cancel":
      return "cancel";
    case "expire":
      return "expire";
  }
}

/** No join token is ever issued again once a consultation is over. */
export function isClosed(status: ConsultationStatus): boolean {
  return status === "completed" || status === "cancelled";
}

/** What the call's presence facts say about it (from the order-independent timeline). */
export interface CallFacts {
  /** When doctor and patient were first in the room together. */
  firstTogetherAt: Date | null;
  /** When the last person left (null while someone is in the room). */
  lastPresenceAt: Date | null;
  /** When 100ms last delivered a webhook for the room (null: never). */
  lastDeliveryAt?: Date | null;
}

/** A consultation as the live steps need it. */
export type LiveConsultation = Pick<ConsultationRecord, "status" | "startedAt" | "endedAt" | "durationSeconds"> & {
  /** Completed because the call finished (not by a person): its end follows the facts. */
  endedByCall?: boolean;
};

export interface CallTimes {
  startedAt: Date;
  endedAt: Date | null;
  durationSeconds: number | null;
}

/** The next step the facts call for: an action with its time, new times, or when to look again. */
export type LiveStep =
  | { action: "bothJoined"; at: Date }
  | { action: "callFinished"; at: Date }
  | { action: "retime"; times: CallTimes }
  | { action: null; completesAt: Date | null };

/**
 * PENDING becomes ACTIVE once both sides were in together; ACTIVE becomes COMPLETED once
 * the room has been empty for the grace period, counted both from the last presence (event
 * time) and from the room's last delivery (a backlog or replay may still bring someone
 * back). A started call's times follow the facts whatever its status ("retime"), which
 * never moves the status. Apply a step and ask again: late facts may call for several.
 */
export function nextLiveStep(c: LiveConsultation, facts: CallFacts, now: Date, graceSeconds: number): LiveStep {
  if (c.status === "pending") {
    return facts.firstTogetherAt ? { action: "bothJoined", at: facts.firstTogetherAt } : { action: null, completesAt: null };
  }
  const times = callTimes(c, facts);
  if (times) return { action: "retime", times };
  if (c.status !== "active" || !facts.lastPresenceAt || !c.startedAt) return { action: null, completesAt: null };
  const quietSince = Math.max(facts.lastPresenceAt.getTime(), facts.lastDeliveryAt?.getTime() ?? 0);
  const completesAt = new Date(quietSince + graceSeconds * 1000);
  return now < completesAt ? { action: null, completesAt } : { action: "callFinished", at: facts.lastPresenceAt };
}

/**
 * The times the facts give a call that started, when they differ from the recorded ones
 * (null otherwise): the start is when both were first together; a call that finished by
 * itself ended when the last person left. A doctor's end keeps the moment they ended it.
 */
export function callTimes(c: LiveConsultation, facts: CallFacts): CallTimes | null {
  if (!c.startedAt || (c.status !== "active" && c.status !== "completed")) return null;
  const startedAt = facts.firstTogetherAt ?? c.startedAt;
  const follows = c.status === "completed" && c.endedByCall === true;
  const endedAt = follows ? (facts.lastPresenceAt ?? c.endedAt) : c.endedAt;
  const durationSeconds = follows && endedAt ? secondsBetween(startedAt, endedAt) : c.durationSeconds;
  const same = startedAt.getTime() === c.startedAt.getTime() && endedAt?.getTime() === c.endedAt?.getTime() && durationSeconds === c.durationSeconds;
  return same ? null : { startedAt, endedAt, durationSeconds };
}

/** Whole seconds from `from` to `to`, never negative. */
export function secondsBetween(from: Date, to: Date): number {
  return Math.max(0, Math.round((to.getTime() - from.getTime()) / 1000));
}

/** The timeline's STATUS_CHANGED event for a transition (one per target status). */
export function statusEvent(consultationId: string, from: ConsultationStatus, to: ConsultationStatus, occurredAt: Date): NewEvent {
  return {
    consultationId,
    type: "STATUS_CHANGED",
    occurredAt,
    previousStatus: from,
    status: to,
    dedupeKey: `status:${to}`,
  };
}
