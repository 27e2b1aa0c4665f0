/**
 * When a failed delivery is tried again: the configured retry delays (Svix's by default),
 * each spread by ±20 % so that deliveries that failed together (a partner's outage) do not all
 * come back in the same second.
 */

/**
 * Milliseconds until the next attempt after `attemptsMade` attempts failed, or null when the
 * schedule is used up (the delivery is given up).
 */
export function nextDelayMs(scheduleMs: readonly number[], attemptsMade: number, random: () => number = Math.random): number | null {
  const base = scheduleMs[attemptsMade - 1];
  if (base === undefined) return null;
  return Math.round(base * (0.8 + 0.4 * random()));
}
