/**
 * Call quality as the apps report it (0-5: hmssdk_flutter's network quality of the local
 * peer), summed up per side: the latest score, the lowest, and how much of the reported time
 * was spent at POOR_SCORE or less. A score holds from its report until the next one, or the
 * call's end. Pure: the service keeps one running row per side with `nextQuality`.
 */
export const MIN_SCORE = 0;
export const MAX_SCORE = 5;
/** At or below this, a connection is poor ("poor connection for 40% of the call"). */
export const POOR_SCORE = 2;
/** At most one write per side this often; an app should report on change, not on a timer. */
export const QUALITY_THROTTLE_MS = 10_000;

export interface QualityRow {
  latest: number;
  lowest: number;
  reports: number;
  firstAt: Date;
  lastAt: Date;
  /** Closed segments: from one report to the next. */
  reportedMs: number;
  poorMs: number;
}

export type QualityStep = { write: QualityRow; changed: boolean } | { write: null; throttled: true };

/** The row after a report of `score` at `at`; no write within the throttle of the last one. */
export function nextQuality(previous: QualityRow | null, score: number, at: Date): QualityStep {
  if (!previous) return { write: { latest: score, lowest: score, reports: 1, firstAt: at, lastAt: at, reportedMs: 0, poorMs: 0 }, changed: true };
  if (at.getTime() - previous.lastAt.getTime() < QUALITY_THROTTLE_MS) return { write: null, throttled: true };
  const segment = Math.max(0, at.getTime() - previous.lastAt.getTime());
  return {
    write: {
      latest: score,
      lowest: Math.min(previous.lowest, score),
      reports: previous.reports + 1,
      firstAt: previous.firstAt,
      lastAt: at,
      reportedMs: previous.reportedMs + segment,
      poorMs: previous.poorMs + (previous.latest <= POOR_SCORE ? segment : 0),
    },
    changed: score !== previous.latest,
  };
}

export interface QualitySummary {
  latest: number;
  lowest: number;
  reports: number;
  /** From the first report to `until`. */
  reportedSeconds: number;
  poorSeconds: number;
  /** Of the reported time, the share at POOR_SCORE or less (0 when nothing was reported for long). */
  poorShare: number;
}

/** The summary at `until` (the call's end, or now while it runs): the open segment counts at the latest score. */
export function qualityAt(row: QualityRow, until: Date): QualitySummary {
  const open = Math.max(0, until.getTime() - row.lastAt.getTime());
  const reportedMs = row.reportedMs + open;
  const poorMs = row.poorMs + (row.latest <= POOR_SCORE ? open : 0);
  return {
    latest: row.latest,
    lowest: row.lowest,
    reports: row.reports,
    reportedSeconds: Math.round(reportedMs / 1000),
    poorSeconds: Math.round(poorMs / 1000),
    poorShare: reportedMs === 0 ? (row.latest <= POOR_SCORE ? 1 : 0) : Math.round((poorMs / reportedMs) * 1000) / 1000,
  };
}
