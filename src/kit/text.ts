/**
 * What PostgreSQL can store: text and jsonb refuse U+0000 and lone UTF-16 surrogates, and
 * timestamps outside years 1..9999. Inputs are checked against these before any write, so a
 * client gets BAD_USER_INPUT (or a webhook a 400) instead of an internal error.
 */

/** Why this text cannot be stored, or null. */
export function textProblem(value: string): string | null {
  if (value.includes("\u0000")) return "must not contain NUL characters";
  if (!value.isWellFormed()) return "must be valid Unicode";
  return null;
}

/** The dates the API accepts anywhere: the years 1970..2999 in UTC. */
export function isSaneDate(date: Date): boolean {
  const ms = date.getTime();
  return Number.isFinite(ms) && ms >= Date.UTC(1970, 0, 1) && ms < Date.UTC(3000, 0, 1);
}

/**
 * True when a parsed JSON value can be stored as jsonb: every string and key storable, and
 * nested no deeper than `maxDepth` (deeper values overflow the serializer's stack).
 */
export function isStorableJson(value: unknown, maxDepth = 32, depth = 0): boolean {
  if (typeof value === "string") return textProblem(value) === null;
  if (value === null || typeof value !== "object") return true;
  if (depth >= maxDepth) return false;
  if (Array.isArray(value)) return value.every((v) => isStorableJson(v, maxDepth, depth + 1));
  return Object.entries(value).every(([k, v]) => textProblem(k) === null && isStorableJson(v, maxDepth, depth + 1));
}
