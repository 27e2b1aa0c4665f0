/**
 * The timeline as a projection of the facts. Presence changes and the call's own status
 * changes are derived from the facts every time they change; the log is brought to match by
 * appending what is new and an EVENT_RETRACTED for each logged event the facts no longer
 * support (a leave that was only inferred, a start that a late join moved back). So once
 * every webhook of a call is in, the events the timeline shows are the same whatever the
 * order of arrival, and a subscriber that applies the retractions it was pushed sees exactly
 * that timeline. Pure: no I/O.
 */
import type { ConsultationRecord, ConsultationStatus } from "../consultations/consultation.model.js";
import { statusEvent } from "../consultations/lifecycle.js";
import type { LoggedEvent, NewEvent } from "./event-log.repo.js";
import type { PresenceTransition } from "../consultations/presence.js";
import { isNetworkLeave } from "../consultations/reconnects.js";
import { transitionDeparture, type JoinFailure, type RoomEnd } from "../consultations/departures.js";

const EVENT_TYPES = { joined: "PARTICIPANT_JOINED", left: "PARTICIPANT_LEFT", offline: "PARTICIPANT_OFFLINE" } as const;

/** A consultation after this update's steps, with how it was completed. */
export type ProjectedConsultation = ConsultationRecord & { endedByCall: boolean; closureCause?: string | null };

/** What the facts say beyond presence: failed joins, and the room ends that explain leaves. */
export interface TimelineExtras {
  failures?: readonly JoinFailure[];
  roomEnds?: readonly RoomEnd[];
}

/** The events the facts call for now: presence changes (with why a side left), failed joins, then the status changes they caused. */
export function derivedEvents(c: ProjectedConsultation, transitions: readonly PresenceTransition[], extras: TimelineExtras = {}): NewEvent[] {
  const events = [...participantEvents(c, transitions, extras.roomEnds ?? []), ...(extras.failures ?? []).map((f) => failureEvent(c, f))];
  if (c.startedAt && (c.status === "active" || c.status === "completed")) events.push(statusEvent(c.id, "pending", "active", c.startedAt));
  if (c.status === "completed" && c.endedByCall && c.endedAt) events.push(statusEvent(c.id, "active", "completed", c.endedAt));
  return events;
}

/**
 * What to append so the log shows `wanted`: retractions of logged events the facts no longer
 * support, then the wanted events not logged yet. Only events of the kinds `wanted` may hold
 * (presence changes, a call's start and its own completion) are ever retracted.
 */
export function reconcileLog(c: ProjectedConsultation, wanted: readonly NewEvent[], logged: readonly LoggedEvent[]): NewEvent[] {
  const retracted = new Set(logged.flatMap((e) => (e.retractsId === null ? [] : [e.retractsId])));
  const shown = logged.filter((e) => e.type !== "EVENT_RETRACTED" && !retracted.has(e.id));
  const wantedIds = new Set(wanted.flatMap((e) => [identity(e), identity(e, false)]));
  const used = new Set(logged.map((e) => e.dedupeKey));
  const shownIds = new Set(shown.map((e) => identity(e)));
  // An event logged before leaves had causes matches whatever cause is wanted now (no retraction of old logs).
  const shownUncaused = new Set(shown.filter((e) => !e.leaveCause).map((e) => identity(e, false)));
  const retractions = shown
    .filter((e) => isDerivedKey(e.dedupeKey, c) && !wantedIds.has(identity(e, Boolean(e.leaveCause))))
    .map((e) => retraction(c, e));
  const additions = wanted
    .filter((e) => !shownIds.has(identity(e)) && !shownUncaused.has(identity(e, false)))
    .map((e) => ({ ...e, dedupeKey: freeKey(e.dedupeKey, used) }))
    .sort(byTimeThenPresenceFirst);
  return [...retractions, ...additions];
}

/** PARTICIPANT_JOINED/LEFT/OFFLINE for each transition, with the status the timeline implies then. */
export function participantEvents(c: ConsultationRecord, transitions: readonly PresenceTransition[], roomEnds: readonly RoomEnd[] = []): NewEvent[] {
  return transitions.map((t) => {
    const departure = transitionDeparture(t, roomEnds);
    return {
      consultationId: c.id,
      type: EVENT_TYPES[t.kind],
      occurredAt: t.at,
      status: statusAt(c, t.at),
      side: t.side,
      peerId: t.peerId,
      joinedAt: t.joinedAt,
      leftReason: t.kind === "joined" ? null : (t.reason ?? null),
      leaveCause: departure?.cause ?? null,
      leaveDetail: departure?.detail ?? null,
      dedupeKey: `${t.kind}:${t.side}:${t.at.toISOString()}`,
    };
  });
}

/** PARTICIPANT_JOIN_FAILED for a join 100ms refused. */
function failureEvent(c: ConsultationRecord, f: JoinFailure): NewEvent {
  return {
    consultationId: c.id,
    type: "PARTICIPANT_JOIN_FAILED",
    occurredAt: f.at,
    status: statusAt(c, f.at),
    side: f.side,
    peerId: f.peerId,
    leaveCause: "join_failed",
    leaveDetail: f.detail,
    dedupeKey: `join_failed:${f.side}:${f.at.toISOString()}`,
  };
}

/**
 * The status right after a presence change at `at`, from the consultation's timeline (a
 * change at the very instant of a status change comes first). Webhooks can reveal an
 * earlier start after the fact, so readers compute it from the current record too.
 */
export function statusAt(c: Pick<ConsultationRecord, "status" | "startedAt" | "endedAt">, at: Date): ConsultationStatus {
  if (c.status === "cancelled") return "cancelled";
  if (c.status === "completed" && c.endedAt && at > c.endedAt) return "completed";
  if (c.startedAt && at > c.startedAt) return "active";
  return "pending";
}

function retraction(c: ConsultationRecord, e: LoggedEvent): NewEvent {
  return {
    consultationId: c.id,
    type: "EVENT_RETRACTED",
    occurredAt: e.occurredAt,
    status: c.status,
    side: e.side,
    peerId: e.peerId,
    retractsId: e.id,
    dedupeKey: `retract:${e.id}`,
  };
}

/** A key once retracted may be wanted again (facts only grow, but a leave can reappear): `key#2`, `key#3`… */
function freeKey(key: string, used: Set<string>): string {
  let candidate = key;
  for (let n = 2; used.has(candidate); n++) candidate = `${key}#${n}`;
  used.add(candidate);
  return candidate;
}

/**
 * What an event says, whichever of its keys it was logged under: kind, side, time, (for a
 * leave) since when, whether it dropped for a network reason (the side is then RECONNECTING)
 * and, `withCause`, why it left (a room end reported late changes a leave's cause).
 */
function identity(e: Pick<NewEvent, "dedupeKey" | "occurredAt" | "joinedAt" | "leftReason" | "leaveCause">, withCause = true): string {
  const base = `${baseKey(e.dedupeKey)}@${e.occurredAt.getTime()}@${e.joinedAt?.getTime() ?? ""}@${isNetworkLeave(e.leftReason) ? "network" : ""}`;
  return withCause ? `${base}@${e.leaveCause ?? ""}` : base;
}

function baseKey(key: string): string {
  return key.replace(/#\d+$/, "");
}

function isDerivedKey(key: string, c: ProjectedConsultation): boolean {
  const base = baseKey(key);
  if (["joined:", "left:", "offline:", "join_failed:"].some((p) => base.startsWith(p)) || base === "status:active") return true;
  return base === "status:completed" && c.endedByCall;
}

/** In time order; at the same instant, presence changes before the status change they cause. */
function byTimeThenPresenceFirst(a: NewEvent, b: NewEvent): number {
  const rank = (e: NewEvent) => (e.type === "STATUS_CHANGED" ? 1 : 0);
  return a.occurredAt.getTime() - b.occurredAt.getTime() || rank(a) - rank(b);
}
