/**
 * When a side may join, and how long its 100ms token lives. Pure functions of the
 * appointment, the policy and the clock.
 */
import type { VideoPolicy } from "../config/config.js";
import { AppError } from "../kit/errors.js";
import type { ConsultationStatus } from "./consultation.model.js";
import { isClosed } from "./lifecycle.js";

export interface JoinWindow {
  opensAt: Date;
  closesAt: Date;
}

interface Booking {
  scheduledAt: Date;
  durationMinutes: number;
  /** A delay the doctor announced ("running late"): the window closes that much later. */
  delayMinutes?: number | null;
}

const MINUTE = 60_000;
/** An ACTIVE call may run past its window; a rejoin then gets a token this long. */
export const OVERRUN_TOKEN_TTL_MS = 15 * MINUTE;

/** From `scheduledAt - joinEarly` to the booked end plus `joinGrace` (and any announced delay). */
export function joinWindow(booking: Booking, policy: Pick<VideoPolicy, "joinEarlyMinutes" | "joinGraceMinutes">): JoinWindow {
  const start = booking.scheduledAt.getTime();
  return {
    opensAt: new Date(start - policy.joinEarlyMinutes * MINUTE),
    closesAt: new Date(start + (booking.durationMinutes + policy.joinGraceMinutes + (booking.delayMinutes ?? 0)) * MINUTE),
  };
}

/** Throws INVALID_STATE unless a token may be issued now: inside the window, or while ACTIVE. */
export function assertCanJoin(status: ConsultationStatus, window: JoinWindow, now: Date): void {
  if (isClosed(status)) {
    throw new AppError("INVALID_STATE", `The consultation is ${status}`, { status: status.toUpperCase() });
  }
  if (status === "active") return;
  if (now < window.opensAt) {
    throw new AppError("INVALID_STATE", "The consultation cannot be joined yet", { opensAt: window.opensAt.toISOString() });
  }
  if (now >= window.closesAt) throw new AppError("INVALID_STATE", "The join window has closed");
}

/**
 * A join token expires when the window closes, never later; an ACTIVE call that overran its
 * window gets a short token so a dropped side can rejoin. Whole seconds (JWT `exp`).
 */
export function joinTokenExpiry(status: ConsultationStatus, window: JoinWindow, now: Date): Date {
  const end = status === "active" ? Math.max(window.closesAt.getTime(), now.getTime() + OVERRUN_TOKEN_TTL_MS) : window.closesAt.getTime();
  return new Date(Math.floor(end / 1000) * 1000);
}

/** 100ms accepts 120..43200 s: the booked length plus slack, within those bounds. */
export function roomMaxDurationSeconds(durationMinutes: number, slackMinutes: number): number {
  return Math.min(43_200, Math.max(120, (durationMinutes + slackMinutes) * 60));
}
