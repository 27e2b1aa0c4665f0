/**
 * The attendance ledger: what `connectedSeconds` is made of. Per side, each connection's
 * stretch in the room with where its end points came from and the 100ms deliveries behind
 * them; then the stretches where both sides were in, which add up to the billed time. Pure,
 * from the same facts (and the same rules: `connectionEnd`) as the live timeline.
 */
import { connectionEnd, SIDES, type ConnectionFact, type Side } from "../consultations/presence.js";
import { departureOf, joinFailuresOf, type Departure, type JoinFailure, type RoomEnd } from "../consultations/departures.js";

/** REPORTED: both ends are 100ms's; INFERRED: an end is the API's; CLOSED_BY_SESSION_END: a session close ended it. */
export type AttendanceSource = "reported" | "inferred" | "closed_by_session_end";

export interface AttendanceConnection extends ConnectionFact {
  joinedInferred?: boolean;
  sessionId?: string | null;
}

/** A stored webhook of the room: presence and session-close deliveries are the ones that matter here. */
export interface Delivery {
  id: string;
  type: string;
  peerId: string | null;
  sessionId: string | null;
}

export interface AttendanceInterval {
  side: Side;
  peerId: string;
  from: Date;
  /** Null while the connection is still in the room. */
  to: Date | null;
  source: AttendanceSource;
  /** Why it ended (null while open). */
  end: Departure | null;
  webhookIds: string[];
}

/** A join 100ms refused, with its delivery. */
export type AttendanceJoinFailure = JoinFailure & { webhookIds: string[] };

export interface AttendanceOverlap {
  from: Date;
  to: Date | null;
  /** Whole seconds of an ended overlap; 0 while it is still open. */
  seconds: number;
  /** The deliveries behind the intervals it is made of, both sides'. */
  webhookIds: string[];
}

export interface AttendanceLedger {
  intervals: Record<Side, AttendanceInterval[]>;
  /** Joins 100ms refused, oldest first. */
  joinFailures: AttendanceJoinFailure[];
  overlaps: AttendanceOverlap[];
  /** Seconds both sides were in the room over ended overlaps: the timeline's `connectedMs`, rounded. */
  connectedSeconds: number;
}

const CLOSE_TYPES = new Set(["session.close.success", "room.end.success"]);

export function deriveAttendance(
  connections: readonly AttendanceConnection[],
  closes: readonly Date[],
  deliveries: readonly Delivery[],
  roomEnds: readonly RoomEnd[] = [],
): AttendanceLedger {
  const closeTimes = closes.map((d) => d.getTime()).sort((a, b) => a - b);
  const intervals = {} as Record<Side, AttendanceInterval[]>;
  for (const side of SIDES) {
    intervals[side] = connections
      .filter((c) => c.side === side && c.joinedAt !== null)
      .map((c) => intervalOf(side, c, closeTimes, deliveries, roomEnds))
      .sort((a, b) => a.from.getTime() - b.from.getTime() || a.peerId.localeCompare(b.peerId));
  }
  const joinFailures = joinFailuresOf(connections).map((f) => ({ ...f, webhookIds: [...new Set(deliveries.filter((d) => d.peerId === f.peerId).map((d) => d.id))].sort() }));
  const overlaps = overlapsOf(merged(intervals.doctor), merged(intervals.patient));
  const ms = overlaps.reduce((sum, o) => sum + (o.to ? o.to.getTime() - o.from.getTime() : 0), 0);
  return { intervals, joinFailures, overlaps, connectedSeconds: Math.round(ms / 1000) };
}

function intervalOf(side: Side, c: AttendanceConnection, closeTimes: readonly number[], deliveries: readonly Delivery[], roomEnds: readonly RoomEnd[]): AttendanceInterval {
  const { start, end, closedBySession } = connectionEnd(c, closeTimes);
  const own = deliveries.filter((d) => d.peerId === c.peerId && !CLOSE_TYPES.has(d.type));
  const closing = closedBySession ? deliveries.filter((d) => CLOSE_TYPES.has(d.type) && (!c.sessionId || d.sessionId === c.sessionId)) : [];
  const inferred = c.joinedInferred === true || (end !== null && !closedBySession && c.leftInferred === true);
  const source: AttendanceSource = closedBySession ? "closed_by_session_end" : inferred ? "inferred" : "reported";
  return {
    side,
    peerId: c.peerId,
    from: new Date(start),
    to: end === null ? null : new Date(end),
    source,
    end: end === null ? null : departureOf(closedBySession ? null : c.leftReason, { joinedAt: start, end, closedBySession }, roomEnds),
    webhookIds: [...new Set([...own, ...closing].map((d) => d.id))].sort(),
  };
}

interface Span {
  from: number;
  to: number;
  ids: Set<string>;
}

/** One side's intervals as time in the room (two devices, a quick rejoin count once), with their deliveries. */
function merged(intervals: readonly AttendanceInterval[]): Span[] {
  const spans: Span[] = [];
  for (const i of intervals) {
    const from = i.from.getTime();
    const to = i.to?.getTime() ?? Number.POSITIVE_INFINITY;
    const last = spans.at(-1);
    if (last && from <= last.to) {
      last.to = Math.max(last.to, to);
      i.webhookIds.forEach((id) => last.ids.add(id));
    } else spans.push({ from, to, ids: new Set(i.webhookIds) });
  }
  return spans;
}

function overlapsOf(a: readonly Span[], b: readonly Span[]): AttendanceOverlap[] {
  const result: AttendanceOverlap[] = [];
  for (const x of a) {
    for (const y of b) {
      const from = Math.max(x.from, y.from);
      const to = Math.min(x.to, y.to);
      if (from >= to) continue;
      const open = !Number.isFinite(to);
      result.push({
        from: new Date(from),
        to: open ? null : new Date(to),
        seconds: open ? 0 : Math.round((to - from) / 1000),
        webhookIds: [...new Set([...x.ids, ...y.ids])].sort(),
      });
    }
  }
  return result.sort((p, q) => p.from.getTime() - q.from.getTime());
}
