/**
 * Presence as a pure function of what 100ms told us. Webhooks arrive late, twice, or out of
 * order, so nothing here depends on arrival order: the same set of connection facts always
 * gives the same timeline. Times are the events' own (`joined_at`, `left_at`, session stop).
 */
export type Side = "doctor" | "patient";
export const SIDES: readonly Side[] = ["doctor", "patient"];

/** The users behind a consultation's two sides. */
export interface RoomMembers {
  doctorUserId: string;
  patientUserId: string;
}

/**
 * The side a 100ms peer counts for: only when both its `user_id` and its role match that
 * side. Anything else (a stranger, a role mismatch) is no side at all.
 */
export function peerSide(
  members: RoomMembers,
  roles: { doctor: string; patient: string },
  userId: string | null | undefined,
  role: string | null | undefined,
): Side | null {
  if (userId === members.doctorUserId && role === roles.doctor) return "doctor";
  if (userId === members.patientUserId && role === roles.patient) return "patient";
  return null;
}

/** One 100ms connection (a `peer_id`) as far as we know it. */
export interface ConnectionFact {
  peerId: string;
  side: Side | null;
  joinedAt: Date | null;
  leftAt: Date | null;
  /** `leftAt` is the API's inference: a session close reported before it ends the connection then. */
  leftInferred?: boolean;
  /** 100ms's `reason` for the leave. */
  leftReason?: string | null;
}

export interface SidePresence {
  online: boolean;
  /** The current (or last) connection. */
  peerId: string | null;
  /** When the side last joined. */
  joinedAt: Date | null;
  /** When the side last left; null while online. */
  leftAt: Date | null;
}

export interface PresenceTransition {
  /** "offline": a side that left with a network reason did not come back within the reconnect window. */
  kind: "joined" | "left" | "offline";
  side: Side;
  /** For "offline", the leave it follows (the side counts as gone since then). */
  at: Date;
  peerId: string;
  /** For "left" and "offline": when that stretch in the room began. */
  joinedAt: Date;
  /** For "left" and "offline": 100ms's reason (null when a session close ended the stretch). */
  reason?: string | null;
}

export interface Timeline {
  sides: Record<Side, SidePresence>;
  /** Why each side's last connection left (null while online, or when a session close ended it). */
  leftReasons: Record<Side, string | null>;
  /** Every time a side came into or left the room, oldest first. */
  transitions: PresenceTransition[];
  /** When doctor and patient were first in the room together. */
  firstTogetherAt: Date | null;
  /** Milliseconds both were in the room over overlaps that have ended. */
  connectedMs: number;
  /** Both are in the room now, together since then. */
  bothSince: Date | null;
  /** Nobody is in the room: the last moment anybody was (the real end of the call). */
  lastPresenceAt: Date | null;
}

interface Stretch {
  start: number;
  end: number | null;
  startPeer: string;
  endPeer: string | null;
  endReason: string | null;
  lastJoin: number;
  lastJoinPeer: string;
}

/**
 * @param closes session stops and room ends: a connection still open at a close had left then
 *   (its own leave may be late or lost; the session cannot outlive its peers).
 */
export function deriveTimeline(connections: readonly ConnectionFact[], closes: readonly Date[]): Timeline {
  const closeTimes = closes.map((d) => d.getTime()).sort((a, b) => a - b);
  const stretches = {} as Record<Side, Stretch[]>;
  for (const side of SIDES) {
    const own = connections.filter((c) => c.side === side && c.joinedAt !== null);
    stretches[side] = mergeStretches(own.map((c) => intervalOf(c, closeTimes)));
  }
  const overlaps = intersect(stretches.doctor, stretches.patient);
  const open = overlaps.find((o) => o.end === null);
  const online = SIDES.some((s) => stretches[s].at(-1)?.end === null);
  const ends = SIDES.flatMap((s) => stretches[s].map((x) => x.end ?? 0));
  return {
    sides: { doctor: presenceOf(stretches.doctor), patient: presenceOf(stretches.patient) },
    leftReasons: { doctor: leftReasonOf(stretches.doctor), patient: leftReasonOf(stretches.patient) },
    transitions: SIDES.flatMap((side) => transitionsOf(side, stretches[side])).sort(
      (a, b) => a.at.getTime() - b.at.getTime() || (a.kind === b.kind ? 0 : a.kind === "left" ? -1 : 1),
    ),
    firstTogetherAt: overlaps[0] ? new Date(overlaps[0].start) : null,
    connectedMs: overlaps.reduce((sum, o) => sum + (o.end === null ? 0 : o.end - o.start), 0),
    bothSince: open ? new Date(open.start) : null,
    lastPresenceAt: !online && ends.length > 0 ? new Date(Math.max(...ends)) : null,
  };
}

/** Seconds both sides were in the room up to `now` (open overlap included). */
export function connectedSecondsAt(connectedMs: number, bothSince: Date | null, now: Date): number {
  const open = bothSince ? Math.max(0, now.getTime() - bothSince.getTime()) : 0;
  return Math.round((connectedMs + open) / 1000);
}

function intervalOf(c: ConnectionFact, closeTimes: readonly number[]): Stretch {
  const { start, end, closedBySession } = connectionEnd(c, closeTimes);
  const endReason = end === null || closedBySession ? null : (c.leftReason ?? null);
  return { start, end, startPeer: c.peerId, endPeer: c.peerId, endReason, lastJoin: start, lastJoinPeer: c.peerId };
}

/**
 * Where one connection's time in the room ends: its reported leave; else the first reported
 * session close after it joined; an inferred leave only when no close came before it.
 */
export function connectionEnd(c: ConnectionFact, closeTimes: readonly number[]): { start: number; end: number | null; closedBySession: boolean } {
  const start = c.joinedAt!.getTime();
  const close = closeTimes.find((t) => t >= start) ?? null;
  const left = c.leftAt?.getTime() ?? null;
  if (left !== null && (!c.leftInferred || close === null || left <= close)) return { start, end: Math.max(left, start), closedBySession: false };
  return { start, end: close, closedBySession: close !== null };
}

/** Connections of one side overlap (two devices, a quick rejoin): one side online until the last leaves. */
function mergeStretches(intervals: Stretch[]): Stretch[] {
  const sorted = [...intervals].sort((a, b) => a.start - b.start || a.startPeer.localeCompare(b.startPeer));
  const merged: Stretch[] = [];
  for (const next of sorted) {
    const current = merged.at(-1);
    if (!current || (current.end !== null && next.start > current.end)) {
      merged.push({ ...next });
      continue;
    }
    if (next.start >= current.lastJoin) {
      current.lastJoin = next.start;
      current.lastJoinPeer = next.startPeer;
    }
    if (current.end !== null && (next.end === null || next.end >= current.end)) {
      current.end = next.end;
      current.endPeer = next.endPeer;
      current.endReason = next.endReason;
    }
  }
  return merged;
}

function intersect(a: readonly Stretch[], b: readonly Stretch[]): Array<{ start: number; end: number | null }> {
  const result: Array<{ start: number; end: number | null }> = [];
  let i = 0;
  let j = 0;
  const endOf = (s: Stretch) => s.end ?? Number.POSITIVE_INFINITY;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    const start = Math.max(x.start, y.start);
    const end = Math.min(endOf(x), endOf(y));
    if (start < end) result.push({ start, end: Number.isFinite(end) ? end : null });
    if (endOf(x) < endOf(y)) i++;
    else j++;
  }
  return result;
}

function presenceOf(stretches: readonly Stretch[]): SidePresence {
  const last = stretches.at(-1);
  if (!last) return { online: false, peerId: null, joinedAt: null, leftAt: null };
  const online = last.end === null;
  return {
    online,
    peerId: online ? last.lastJoinPeer : last.endPeer,
    joinedAt: new Date(last.lastJoin),
    leftAt: online ? null : new Date(last.end!),
  };
}

function leftReasonOf(stretches: readonly Stretch[]): string | null {
  const last = stretches.at(-1);
  return last && last.end !== null ? last.endReason : null;
}

function transitionsOf(side: Side, stretches: readonly Stretch[]): PresenceTransition[] {
  return stretches.flatMap((s) => {
    const joined: PresenceTransition = { kind: "joined", side, at: new Date(s.start), peerId: s.startPeer, joinedAt: new Date(s.start) };
    if (s.end === null) return [joined];
    return [joined, { kind: "left", side, at: new Date(s.end), peerId: s.endPeer ?? s.startPeer, joinedAt: new Date(s.lastJoin), reason: s.endReason }];
  });
}
