/** Opaque, ordered event ids: what clients pass as `after` to resume a stream. */
import { badInput } from "../errors.js";

const PREFIX = "ev1:";

export function encodeEventId(id: number): string {
  return Buffer.from(`${PREFIX}${id}`, "utf8").toString("base64url");
}

/** Throws BAD_USER_INPUT on anything this API did not issue. */
export function decodeEventId(value: string, field = "after"): number {
  const text = Buffer.from(value, "base64url").toString("utf8");
  if (text.startsWith(PREFIX)) {
    const id = Number(text.slice(PREFIX.length));
    if (Number.isSafeInteger(id) && id >= 0) return id;
  }
  throw badInput(`${field} is not a valid event id`, field);
}
