/**
 * Call quality reported by the apps: each side's own app reports its network quality (0-5)
 * during the call. A report outside the call (not ACTIVE) or within QUALITY_THROTTLE_MS of the
 * side's last write is ignored, not an error (the app reports on change and may race the
 * call's end). Stored as one running summary per side (call-quality.ts); a changed score is
 * pushed as CALL_QUALITY_CHANGED. Every write is audited.
 */
import { mayReportQuality } from "../access/access-policy.js";
import { entry, type Actor } from "../audit/audit.model.js";
import type { UnitOfWork } from "../app/repos.js";
import { AppError, badInput } from "../kit/errors.js";
import { MAX_SCORE, MIN_SCORE, nextQuality, qualityAt, type QualitySummary } from "./call-quality.js";
import type { VisibleConsultations } from "./visible-consultations.js";

export type QualityOutcome = "accepted" | "throttled" | "not_in_call";

export interface QualityReport {
  outcome: QualityOutcome;
  side: "doctor" | "patient";
  /** The side's summary after the report (null when nothing was ever recorded). */
  quality: QualitySummary | null;
}

export class CallQualityReports {
  readonly #now: () => Date;

  constructor(private readonly deps: { transaction: UnitOfWork; now?: () => Date }) {
    this.#now = deps.now ?? (() => new Date());
  }

  async report(visible: VisibleConsultations, actor: Actor, consultationId: string, score: number): Promise<QualityReport> {
    if (!Number.isInteger(score) || score < MIN_SCORE || score > MAX_SCORE) throw badInput(`score must be a whole number from ${MIN_SCORE} to ${MAX_SCORE}`, "score");
    const consultation = await visible.get(consultationId);
    const side = mayReportQuality(visible.viewer, consultation);
    if (!side) throw new AppError("FORBIDDEN", "Only the consultation's doctor or patient reports call quality, for their own side");
    const now = this.#now();
    return this.deps.transaction(async ({ frontDesk, eventLog, audit }) => {
      const previous = await frontDesk.lockQuality(consultation.id, side);
      const summary = (outcome: QualityOutcome, row = previous): QualityReport => ({ outcome, side, quality: row && qualityAt(row, now) });
      if (consultation.status !== "active") return summary("not_in_call");
      const step = nextQuality(previous, score, now);
      if (!step.write || !(await frontDesk.saveQuality(consultation.id, side, step.write, previous === null))) return summary("throttled");
      if (step.changed) {
        await eventLog.append([{ consultationId: consultation.id, type: "CALL_QUALITY_CHANGED", occurredAt: now, status: "active", side, qualityScore: score, dedupeKey: `quality:${side}:${now.toISOString()}` }]);
      }
      await audit.insert([entry(actor, "consultation.quality", consultation)]);
      return summary("accepted", { ...step.write, consultationId: consultation.id, side });
    });
  }
}
