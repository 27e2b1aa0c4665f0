/**
 * Cursors of the consultations connection: (scheduledAt to the microsecond, consultation id),
 * the list's order. Clients must treat them as opaque.
 */
import { cursorCodec, exactTimeOfMillis, readExactTime } from "../kit/cursor.js";
import { isUuid } from "../kit/ids.js";
import { isSaneDate } from "../kit/text.js";
import type { ConsultationCursor } from "./consultation.model.js";

const consultationCursors = cursorCodec<ConsultationCursor>({
  tag: "c2",
  write: ({ scheduledAt, id }) => [scheduledAt, id],
  read: ([at, id, ...rest]) => {
    const scheduledAt = readExactTime(at);
    return scheduledAt !== null && id !== undefined && isUuid(id) && rest.length === 0 ? { scheduledAt, id } : null;
  },
  older: {
    // Milliseconds (issued until microsecond cursors). The list is ascending: resume from
    // the first microsecond of that millisecond, so a client mid-pagination across the deploy
    // sees rows of that one millisecond again at worst, never misses one.
    c1: ([iso, id, ...rest]) => {
      const date = new Date(iso ?? "");
      if (id === undefined || !isUuid(id) || !isSaneDate(date) || rest.length > 0) return null;
      return { scheduledAt: exactTimeOfMillis(date, "first"), id };
    },
  },
});

export function encodeConsultationCursor(cursor: ConsultationCursor): string {
  return consultationCursors.encode(cursor);
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeConsultationCursor(value: string): ConsultationCursor {
  return consultationCursors.decode(value, "after");
}
