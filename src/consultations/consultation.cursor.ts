/**
 * Opaque cursors of the consultations connection. Clients must treat them as opaque; they
 * encode the sort key so that pages stay stable while rows are added.
 */
import { badInput } from "../errors.js";
import { isUuid } from "../ids.js";
import { isSaneDate } from "../text.js";
import type { ConsultationCursor } from "./consultation.model.js";

const PREFIX = "c1:";

export function encodeConsultationCursor(cursor: ConsultationCursor): string {
  return Buffer.from(`${PREFIX}${cursor.scheduledAt.toISOString()}|${cursor.id}`, "utf8").toString("base64url");
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeConsultationCursor(value: string): ConsultationCursor {
  const text = Buffer.from(value, "base64url").toString("utf8");
  if (text.startsWith(PREFIX)) {
    const [iso, id] = text.slice(PREFIX.length).split("|");
    const scheduledAt = new Date(iso ?? "");
    if (id !== undefined && isUuid(id) && isSaneDate(scheduledAt)) return { scheduledAt, id };
  }
  throw badInput("after is not a valid cursor", "after");
}
