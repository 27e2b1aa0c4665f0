/**
 * 100ms webhook bodies (`ACTED_ON` below lists the events we act on). The envelope is checked strictly (anything
 * else is a 400 and is not stored); `data` is parsed leniently per event type, because 100ms
 * documents several fields loosely ("parse defensively").
 */
import { z } from "zod";
import { parseHmsTime } from "../hms/responses.js";
import { isSaneDate, isStorableJson } from "../kit/text.js";

export const envelopeSchema = z.looseObject({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  timestamp: z
    .string()
    .max(64)
    .refine((v) => isSaneDate(new Date(v)), "not a date-time in a plausible range"),
  data: z.record(z.string(), z.unknown()),
  /**
   * Set on deliveries 100ms re-sends from its delivery log (same `id` as the original; where
   * the flag sits is not documented, so only its top-level spelling is read, and any value is
   * accepted: a replay must never be refused for its flag). A replay is applied like the
   * original, and is a no-op when the original arrived.
   */
  is_replay: z.unknown().optional(),
});

export type Envelope = z.infer<typeof envelopeSchema>;

export function isReplay(envelope: Envelope): boolean {
  return envelope.is_replay === true || envelope.is_replay === "true";
}

/** Parses raw bytes into an envelope; null when not JSON or not a 100ms envelope. */
export function parseEnvelope(body: Buffer): Envelope | null {
  let json: unknown;
  try {
    json = JSON.parse(body.toString("utf8"));
  } catch {
    return null;
  }
  // What PostgreSQL could not store (NUL, lone surrogates, absurd nesting) is not a 100ms envelope.
  if (!isStorableJson(json)) return null;
  const parsed = envelopeSchema.safeParse(json);
  return parsed.success ? parsed.data : null;
}

/**
 * A 100ms time (parseHmsTime: the Go zero time means "not set"). A time that does not parse,
 * or lies outside any plausible range, makes the event's data invalid.
 */
const hmsTime = z
  .string()
  .nullish()
  .transform((v, ctx) => {
    const date = parseHmsTime(v);
    if (date === null) return null;
    if (date === undefined || !isSaneDate(date)) {
      ctx.addIssue({ code: "custom", message: "not a plausible date-time" });
      return z.NEVER;
    }
    return date;
  });

const text = z.string().max(500).nullish();
/** A descriptive field (a reason, a message): read when it is text, else left out; never makes the event invalid. */
const words = z.unknown().transform((v) => (typeof v === "string" && v.trim() !== "" ? v.slice(0, 500) : null)).optional();

export const peerDataSchema = z.object({
  room_id: z.string().min(1).max(200),
  peer_id: z.string().min(1).max(200),
  session_id: text,
  user_id: text,
  role: text,
  joined_at: hmsTime,
  left_at: hmsTime,
  reason: text,
  /** peer.leave.success: a kick's (remove-peers, end-room) reason. */
  message: words,
  error_message: text,
});

export const sessionDataSchema = z.object({
  room_id: z.string().min(1).max(200),
  session_id: z.string().min(1).max(200),
  session_started_at: hmsTime,
  session_stopped_at: hmsTime,
});

export const roomEndDataSchema = z.object({
  room_id: z.string().min(1).max(200),
  session_id: text,
  reason: words,
  /** "peer" when a peer ended it (then `user_id` and `role` say who). */
  source: words,
  user_id: words,
  role: words,
});

export const roleChangeDataSchema = z.object({
  room_id: z.string().min(1).max(200),
  peer_id: z.string().min(1).max(200),
  user_id: text,
  role: z.string().max(200),
});

/** The event types that change presence or the lifecycle; all others are stored and acknowledged. */
export const ACTED_ON = new Set([
  "session.open.success",
  "session.close.success",
  "peer.join.success",
  "peer.leave.success",
  "peer.join.failure",
  "room.end.success",
  "role.change.success",
]);

/** A webhook type as a metric label: one the API acts on, or "other" (the label set stays bounded). */
export function webhookTypeLabel(type: string): string {
  return ACTED_ON.has(type) ? type : "other";
}
