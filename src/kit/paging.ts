import { badInput } from "./errors.js";

/** `first` of every connection: 0..max, else BAD_USER_INPUT (a silent clamp hides bugs). */
export function checkPageSize(first: number, max: number): number {
  if (!Number.isInteger(first) || first < 0 || first > max) {
    throw badInput(`first must be between 0 and ${max}`, "first");
  }
  return first;
}
