/**
 * Why a side's connection ended, and why a call ended: 100ms's words mapped to a few causes a
 * front desk can act on. Pure: a function of the connection's reported reason, where its end
 * came from and the room ends 100ms reported, so the same facts give the same answer in any
 * delivery order. A reason nobody knows maps to OTHER, never to an error.
 */
import type { ConnectionFact, PresenceTransition, Side, Timeline } from "./presence.js";
import { isNetworkLeave } from "./reconnects.js";

/** Keys are the rules'; GraphQL's `LeaveReason` maps them. */
export type LeaveCause = "left" | "removed" | "network" | "join_failed" | "call_ended" | "other";
export const LEAVE_CAUSES: readonly LeaveCause[] = ["left", "removed", "network", "join_failed", "call_ended", "other"];

export interface Departure {
  cause: LeaveCause;
  /** 100ms's own words: the leave's reason, a kick's message, a failed join's error, the room end's reason. */
  detail: string | null;
}

/** A `room.end.success`: the session was ended for everybody. */
export interface RoomEnd {
  at: Date;
  /** 100ms's `reason` (the end-room request's, or the app's). */
  reason: string | null;
  /** The side of the peer that ended it (`source: "peer"`), else null (the REST API, 100ms). */
  side: Side | null;
}

/** How the stored reason of a failed join starts (webhook-processor: `join failed: <error_message>`). */
export const JOIN_FAILED_PREFIX = "join failed: ";
/** A peer's leave this long before a room end is taken as caused by it (100ms stamps them apart). */
export const ROOM_END_TOLERANCE_MS = 5_000;
const MAX_DURATION = /max(imum)?[ _-]?duration/i;

/** The stored reason of a leave: 100ms's `reason`, with a kick's `message` after a colon. */
export function storedLeaveReason(reason: string | null | undefined, message: string | null | undefined): string | null {
  if (!reason) return null;
  const text = message?.trim() ? `${reason}: ${message.trim()}` : reason;
  return text.slice(0, 500);
}

/**
 * Why one connection stopped being in the room (`end`: when; `closedBySession`: its own leave
 * is missing and a session close ended it). A room end it was in for comes first: the call
 * ended under it, whatever the peer's own leave says.
 */
export function departureOf(
  stored: string | null | undefined,
  connection: { joinedAt: number; end: number; closedBySession: boolean },
  roomEnds: readonly RoomEnd[],
): Departure {
  const ended = roomEnds.find((r) => {
    const at = r.at.getTime();
    return at >= connection.joinedAt && at <= connection.end + ROOM_END_TOLERANCE_MS;
  });
  if (ended) return { cause: "call_ended", detail: ended.reason };
  if (connection.closedBySession) return { cause: "other", detail: "session closed" };
  return causeOfReason(stored);
}

/** Why a "left" or "offline" transition's stretch ended; null for a join. */
export function transitionDeparture(t: PresenceTransition, roomEnds: readonly RoomEnd[]): Departure | null {
  if (t.kind === "joined") return null;
  // A stretch with no reason of its own was ended by a session close (presence.ts).
  return departureOf(t.reason, { joinedAt: t.joinedAt.getTime(), end: t.at.getTime(), closedBySession: !t.reason }, roomEnds);
}

/** A join 100ms refused (peer.join.failure): the side never got into the room on that attempt. */
export interface JoinFailure {
  side: Side;
  at: Date;
  peerId: string;
  detail: string | null;
}

/** The failed joins among a consultation's connections (stored with their failure time as `leftAt`), oldest first. */
export function joinFailuresOf(connections: readonly ConnectionFact[]): JoinFailure[] {
  const byPeer = new Map<string, JoinFailure>();
  for (const c of connections) {
    if (c.side === null || c.joinedAt !== null || c.leftAt === null || causeOfReason(c.leftReason).cause !== "join_failed") continue;
    byPeer.set(c.peerId, { side: c.side, at: c.leftAt, peerId: c.peerId, detail: causeOfReason(c.leftReason).detail });
  }
  return [...byPeer.values()]
    .sort((a, b) => a.at.getTime() - b.at.getTime() || a.peerId.localeCompare(b.peerId));
}

/**
 * Why each side is out of the room now: its last stretch's end, or a failed join after it
 * (a side that never got in, or could not get back). Null while the side is in the room, or
 * before it ever tried.
 */
export function sideDepartures(timeline: Timeline, failures: readonly JoinFailure[], roomEnds: readonly RoomEnd[]): Record<Side, Departure | null> {
  const of = (side: Side): Departure | null => {
    if (timeline.sides[side].online) return null;
    const last = timeline.transitions.filter((t) => t.side === side && t.kind === "left").at(-1);
    const failure = failures.filter((f) => f.side === side).at(-1);
    if (failure && (!last || failure.at >= last.at)) return { cause: "join_failed", detail: failure.detail };
    return last ? transitionDeparture(last, roomEnds) : null;
  };
  return { doctor: of("doctor"), patient: of("patient") };
}

/** The cause a stored reason alone says (no room end known). */
export function causeOfReason(stored: string | null | undefined): Departure {
  const text = stored?.trim() ?? "";
  if (text === "") return { cause: "other", detail: null };
  const failed = JOIN_FAILED_PREFIX.trim();
  if (text.startsWith(failed)) return { cause: "join_failed", detail: text.slice(failed.length).trim() || null };
  if (isNetworkLeave(text)) return { cause: "network", detail: text };
  const [head, ...rest] = text.split(": ");
  const message = rest.join(": ") || null;
  switch (head!.toLowerCase()) {
    case "client request":
      return { cause: "left", detail: text };
    case "peer kicked":
      return { cause: "removed", detail: message };
    case "server removed peer":
      return { cause: "removed", detail: text };
  }
  if (MAX_DURATION.test(text)) return { cause: "call_ended", detail: text };
  return { cause: "other", detail: text };
}

/** Keys are the rules'; GraphQL's `CallEndReason` maps them. */
export type CallEnd = "doctor" | "everyone_left" | "max_duration" | "no_show" | "cancelled" | "other";

/**
 * Why a call that finished by itself (the room empty past the grace period) ended, from the
 * room ends 100ms reported: the doctor's app ended it, 100ms's maximum duration did, or both
 * sides simply left.
 */
export function callEndOf(roomEnds: readonly RoomEnd[]): CallEnd {
  if (roomEnds.some((r) => r.side === "doctor")) return "doctor";
  if (roomEnds.some((r) => r.reason !== null && MAX_DURATION.test(r.reason))) return "max_duration";
  return roomEnds.length > 0 ? "other" : "everyone_left";
}

/** A closure as stored; rows written before causes were recorded have none. */
export interface ClosureFacts {
  outcome: "completed" | "cancelled";
  cause: string | null;
  closedByUserId: string | null;
  reason: string | null;
}

/** Why a closed consultation's call ended; null while it is open. */
export function endReasonOf(closure: ClosureFacts | null): CallEnd | null {
  if (!closure) return null;
  if (closure.cause && (CALL_ENDS as readonly string[]).includes(closure.cause)) return closure.cause as CallEnd;
  if (closure.outcome === "completed") return closure.closedByUserId ? "doctor" : "everyone_left";
  return closure.reason?.startsWith("no-show") && !closure.closedByUserId ? "no_show" : "cancelled";
}

const CALL_ENDS: readonly CallEnd[] = ["doctor", "everyone_left", "max_duration", "no_show", "cancelled", "other"];
