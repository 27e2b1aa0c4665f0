/**
 * The waiting room: one side in the room alone, before the call is ACTIVE or after the other
 * side dropped or stepped out, and since when. Pure: a function of the order-independent
 * timeline, so reordered or repeated webhooks give the same answer. Whether a consultation's
 * status still lets anyone wait (PENDING or ACTIVE) is the reader's to check.
 */
import type { Side, Timeline } from "./presence.js";

export interface Waiting {
  side: Side;
  /** When this side's stretch alone began: its join, or the other side's leave, whichever came last. */
  since: Date;
}

export function waitingOf(timeline: Timeline): Waiting | null {
  const { doctor, patient } = timeline.sides;
  if (doctor.online === patient.online) return null;
  const side: Side = doctor.online ? "doctor" : "patient";
  const other: Side = side === "doctor" ? "patient" : "doctor";
  const own = timeline.transitions.filter((t) => t.side === side && t.kind === "joined").at(-1)!;
  const otherLeft = timeline.transitions.filter((t) => t.side === other && t.kind === "left").at(-1);
  const since = otherLeft && otherLeft.at > own.at ? otherLeft.at : own.at;
  return { side, since };
}

/** Whole seconds waited at `now`. */
export function waitedSeconds(since: Date, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - since.getTime()) / 1000));
}
