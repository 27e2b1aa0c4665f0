/**
 * Opaque, ordered event ids: what clients pass as `after` to resume a stream, and the
 * cursors of `Consultation.events`. The key is the log's bigserial id, which has no
 * precision to lose.
 */
import { cursorCodec, readSerial } from "../kit/cursor.js";

const eventIds = cursorCodec<number>({
  tag: "ev1",
  write: (id) => [id],
  read: (parts) => (parts.length === 1 ? readSerial(parts[0]) : null),
  noun: "event id",
});

export function encodeEventId(id: number): string {
  return eventIds.encode(id);
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeEventId(value: string, field = "after"): number {
  return eventIds.decode(value, field);
}
