/** Opaque cursors of the audit trail: a row's place in the newest-first order. */
import { badInput } from "../errors.js";
import { isSaneDate } from "../text.js";
import type { AuditPosition } from "./audit.repo.js";

export function encodeAuditCursor(row: AuditPosition): string {
  return Buffer.from(`au2:${row.occurredAt.toISOString()}|${row.id}`, "utf8").toString("base64url");
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeAuditCursor(value: string): AuditPosition {
  const text = Buffer.from(value, "base64url").toString("utf8");
  if (text.startsWith("au2:")) {
    const [iso, id] = text.slice(4).split("|");
    const occurredAt = new Date(iso ?? "");
    const n = Number(id);
    if (isSaneDate(occurredAt) && Number.isSafeInteger(n) && n >= 0) return { occurredAt, id: n };
  }
  throw badInput("after is not a valid cursor", "after");
}
