/**
 * Cursors (and ids) of the audit trail: a row's place in the newest-first order,
 * (occurredAt to the microsecond, id).
 */
import { cursorCodec, exactTimeOfMillis, readExactTime, readSerial } from "../cursor.js";
import { isSaneDate } from "../text.js";
import type { AuditPosition } from "./audit.repo.js";

const auditCursors = cursorCodec<AuditPosition>({
  tag: "au3",
  write: ({ occurredAt, id }) => [occurredAt, id],
  read: ([at, serial, ...rest]) => {
    const occurredAt = readExactTime(at);
    const id = readSerial(serial);
    return occurredAt !== null && id !== null && rest.length === 0 ? { occurredAt, id } : null;
  },
  older: {
    // Milliseconds (issued until microsecond cursors). The trail is descending: resume from
    // the last microsecond of that millisecond, so rows of that one millisecond may repeat,
    // but none is skipped.
    au2: ([iso, serial, ...rest]) => {
      const date = new Date(iso ?? "");
      const id = readSerial(serial);
      if (!isSaneDate(date) || id === null || rest.length > 0) return null;
      return { occurredAt: exactTimeOfMillis(date, "last"), id };
    },
  },
});

export function encodeAuditCursor(position: AuditPosition): string {
  return auditCursors.encode(position);
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeAuditCursor(value: string): AuditPosition {
  return auditCursors.decode(value, "after");
}
