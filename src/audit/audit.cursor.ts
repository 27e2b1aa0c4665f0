/**
 * Cursors (and ids) of the audit trail: an event's place in the newest-first order,
 * (occurredAt to the microsecond, record id, place in the record). An event of a record of one
 * keeps the record's form of before (`au3`, no place), so its id did not change.
 */
import { cursorCodec, exactTimeOfMillis, readExactTime, readSerial, type CursorReader } from "../kit/cursor.js";
import { isSaneDate } from "../kit/text.js";
import type { AuditPosition } from "./audit.repo.js";

/** A record's place: for events of a record of one, and in every cursor issued before records of several. */
const readRecordPlace: CursorReader<AuditPosition> = ([at, serial, ...rest]) => {
  const occurredAt = readExactTime(at);
  const id = readSerial(serial);
  return occurredAt !== null && id !== null && rest.length === 0 ? { occurredAt, id } : null;
};

/** Milliseconds (issued until microsecond cursors), read as the last microsecond of that millisecond. */
const readMillisecondPlace: CursorReader<AuditPosition> = ([iso, serial, ...rest]) => {
  // The trail is descending: resuming from the end of the millisecond may repeat rows of that
  // one millisecond, but skips none.
  const date = new Date(iso ?? "");
  const id = readSerial(serial);
  if (!isSaneDate(date) || id === null || rest.length > 0) return null;
  return { occurredAt: exactTimeOfMillis(date, "last"), id };
};

const recordCursors = cursorCodec<AuditPosition>({ tag: "au3", write: ({ occurredAt, id }) => [occurredAt, id], read: readRecordPlace });

const eventCursors = cursorCodec<AuditPosition>({
  tag: "au4",
  write: ({ occurredAt, id, ordinal }) => [occurredAt, id, ordinal ?? 0],
  read: (parts) => {
    const record = readRecordPlace(parts.slice(0, 2));
    const ordinal = readSerial(parts[2]);
    return record !== null && ordinal !== null && ordinal > 0 && parts.length === 3 ? { ...record, ordinal } : null;
  },
  older: { au3: readRecordPlace, au2: readMillisecondPlace },
});

/** `au3` for an event of a record of one (no ordinal), the id it had before; `au4` with its place otherwise. */
export function encodeAuditCursor(position: AuditPosition): string {
  return position.ordinal ? eventCursors.encode(position) : recordCursors.encode(position);
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeAuditCursor(value: string): AuditPosition {
  return eventCursors.decode(value, "after");
}
