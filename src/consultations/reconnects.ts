/**
 * RECONNECTING: a side whose last connection dropped for a network reason is retrying (the
 * Flutter SDK retries for 60 s), so for a while it is neither in the room nor gone. Pure:
 * a function of the timeline's transitions, the session closes, the window and the clock.
 */
import { SIDES, type PresenceTransition, type Side } from "./presence.js";

/** 100ms's `reason`s for a connection that dropped rather than left (peer.leave.success; "network disconnection" from peer.join.failure). */
export const NETWORK_LEAVE_REASONS: ReadonlySet<string> = new Set(["websocket closed", "ice connection state closed", "network disconnection"]);

export type PresenceState = "online" | "reconnecting" | "offline";

export function isNetworkLeave(reason: string | null | undefined): boolean {
  return reason != null && NETWORK_LEAVE_REASONS.has(reason.trim().toLowerCase());
}

export interface Reconnects {
  /** Per side: RECONNECTING until then, if its last transition is a network leave (compare with the clock when read). */
  until: Record<Side, Date | null>;
  /** "offline" transitions: network leaves not followed by a rejoin or a session close within the window, once it has passed. */
  expired: PresenceTransition[];
  /** The next moment a window still open closes (to look again then). */
  nextDeadline: Date | null;
}

/**
 * A network leave keeps its side RECONNECTING until the first of: a rejoin within `windowMs`
 * of the leave (PARTICIPANT_JOINED), the room's session closing within it (nobody is left to
 * reconnect to), or the window passing. Like completion, the window is counted both in event
 * time and from the room's last delivery (`lastDeliveryAt`), so a backlog or a replay whose
 * rejoin or close is still on its way does not flip a side offline. Only a passed window ends
 * in an "offline" transition, once `now` is past it; a late rejoin within the window makes it
 * unsupported (the timeline retracts it).
 */
export function deriveReconnects(
  transitions: readonly PresenceTransition[],
  closes: readonly Date[],
  windowMs: number,
  now: Date,
  lastDeliveryAt: Date | null = null,
): Reconnects {
  const until: Record<Side, Date | null> = { doctor: null, patient: null };
  const expired: PresenceTransition[] = [];
  let nextDeadline: number | null = null;
  for (const side of SIDES) {
    const own = transitions.filter((t) => t.side === side && t.kind !== "offline");
    own.forEach((t, i) => {
      if (t.kind !== "left" || !isNetworkLeave(t.reason)) return;
      const end = reconnectEnd(t, own[i + 1] ?? null, closes, windowMs, lastDeliveryAt?.getTime() ?? 0);
      if (end === null) return;
      if (i === own.length - 1) until[side] = new Date(end.at);
      if (!end.byWindow) return;
      if (now.getTime() >= end.at) expired.push({ ...t, kind: "offline" });
      else nextDeadline = Math.min(nextDeadline ?? end.at, end.at);
    });
  }
  return { until, expired, nextDeadline: nextDeadline === null ? null : new Date(nextDeadline) };
}

/** When a network leave stops being RECONNECTING without a rejoin; null when the side came back in time. */
function reconnectEnd(leave: PresenceTransition, next: PresenceTransition | null, closes: readonly Date[], windowMs: number, lastDeliveryMs: number) {
  const from = leave.at.getTime();
  const windowEnd = from + windowMs;
  if (next && next.at.getTime() <= windowEnd) return null;
  const close = closes.map((d) => d.getTime()).filter((t) => t >= from && t < windowEnd).sort((a, b) => a - b)[0];
  if (close !== undefined) return { at: close, byWindow: false };
  return { at: Math.max(windowEnd, lastDeliveryMs + windowMs), byWindow: true };
}

/** A side's state right after one of its timeline events: a join, a leave (reconnecting when 100ms dropped it), going offline. */
export function stateAfterEvent(type: string, leftReason: string | null): PresenceState {
  if (type === "PARTICIPANT_JOINED") return "online";
  return type === "PARTICIPANT_LEFT" && isNetworkLeave(leftReason) ? "reconnecting" : "offline";
}

/** A side's state at `now`, from the presence projection. */
export function presenceStateAt(online: boolean, reconnectingUntil: Date | null, now: Date): PresenceState {
  if (online) return "online";
  return reconnectingUntil && now < reconnectingUntil ? "reconnecting" : "offline";
}
