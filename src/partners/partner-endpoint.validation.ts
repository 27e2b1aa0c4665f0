/** An endpoint's fields as an admin sends them, checked before anything is stored (BAD_USER_INPUT naming the field). */
import { CONSULTATION_EVENT_TYPES } from "../db/schema.js";
import { badInput } from "../kit/errors.js";
import { textProblem } from "../kit/text.js";
import { AddressPolicy, AddressRefused } from "./address-policy.js";
import { checkedAddresses, type Resolve } from "./partner-http.js";

const MAX_URL_LENGTH = 2048;
const MAX_DESCRIPTION_LENGTH = 500;

/**
 * The URL, when it may be sent to now: its form (https, or http when allowed; no credentials)
 * and every address its host resolves to (public unicast, or allow-listed).
 */
export async function checkedUrl(policy: AddressPolicy, resolve: Resolve, text: string, field: string): Promise<string> {
  const problem = textProblem(text);
  if (problem) throw badInput(`${field} ${problem}`, field);
  if (text.length > MAX_URL_LENGTH) throw badInput(`${field} must be at most ${MAX_URL_LENGTH} characters`, field);
  try {
    const url = policy.parseUrl(text.trim());
    await checkedAddresses(policy, AddressPolicy.hostOf(url), resolve).catch((error: unknown) => {
      throw error instanceof AddressRefused ? error : new AddressRefused("does not resolve");
    });
    return url.href;
  } catch (error) {
    if (error instanceof AddressRefused) throw badInput(`${field} ${error.message}`, field);
    throw error;
  }
}

/** Known log event types, each once, in the log's order; at least one. */
export function checkedEventTypes(types: readonly string[], field: string): string[] {
  const known = new Set<string>(CONSULTATION_EVENT_TYPES);
  const unknown = types.find((type) => !known.has(type));
  if (unknown !== undefined) throw badInput(`${field}: unknown event type`, field);
  const wanted = CONSULTATION_EVENT_TYPES.filter((type) => types.includes(type));
  if (wanted.length === 0) throw badInput(`${field} must name at least one event type`, field);
  return wanted;
}

export function checkedDescription(text: string, field: string): string {
  const problem = textProblem(text);
  if (problem) throw badInput(`${field} ${problem}`, field);
  if (text.length > MAX_DESCRIPTION_LENGTH) throw badInput(`${field} must be at most ${MAX_DESCRIPTION_LENGTH} characters`, field);
  return text.trim();
}
