import { badInput } from "./errors.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/**
 * Validates an id argument before it reaches SQL (a malformed uuid would otherwise be a
 * database error). Returns it lower-cased.
 */
export function parseId(value: string, field: string): string {
  if (!isUuid(value)) throw badInput(`${field} is not a valid id`, field);
  return value.toLowerCase();
}
