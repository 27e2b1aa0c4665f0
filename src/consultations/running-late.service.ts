/**
 * "The doctor is running late": the consultation's doctor (or an admin) announces a delay in
 * minutes after the booked start, before the call starts. The patient's subscription gets a
 * RUNNING_LATE event with the new expected start; the join window and the no-show expiry
 * move by the delay. Bounded: at most MAX_DELAY_MINUTES, MAX_ANNOUNCEMENTS per consultation;
 * announcing the current delay again is a no-op (a retried request). Audited.
 */
import { mayAnnounceDelay } from "../access/access-policy.js";
import { entry, type Actor } from "../audit/audit.model.js";
import type { UnitOfWork } from "../app/repos.js";
import { AppError, badInput } from "../kit/errors.js";
import type { ConsultationRecord } from "./consultation.model.js";
import type { LegacyTokens } from "./consultation-write.repo.js";
import type { VisibleConsultations } from "./visible-consultations.js";

export const MAX_DELAY_MINUTES = 120;
export const MAX_ANNOUNCEMENTS = 5;

export class RunningLate {
  readonly #now: () => Date;

  constructor(
    private readonly deps: {
      transaction: UnitOfWork;
      /** Mints the table's join tokens for older app versions again, for the moved window (ConsultationCommands). */
      legacyTokenMinter?: (consultation: ConsultationRecord) => Promise<((roomId: string, minutes: number) => Promise<LegacyTokens | null>) | null>;
      now?: () => Date;
    },
  ) {
    this.#now = deps.now ?? (() => new Date());
  }

  async announce(visible: VisibleConsultations, actor: Actor, consultationId: string, minutes: number): Promise<ConsultationRecord> {
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_DELAY_MINUTES) {
      throw badInput(`minutes must be a whole number from 0 to ${MAX_DELAY_MINUTES}`, "minutes");
    }
    const consultation = await visible.get(consultationId);
    if (!mayAnnounceDelay(visible.viewer, consultation)) throw new AppError("FORBIDDEN", "Only the consultation's doctor or an admin can announce a delay");
    // What the tokens need is read before the transaction (embedded PGlite: one connection).
    const mint = (await this.deps.legacyTokenMinter?.(consultation)) ?? null;
    return this.deps.transaction(async ({ consultationWrites, frontDesk, eventLog, audit }) => {
      // Under the row lock: no status change slips between the check and the write.
      const [locked] = await consultationWrites.lockByIds([consultation.id]);
      if (locked?.status !== "pending") {
        throw new AppError("INVALID_STATE", "A delay can only be announced before the call starts", { status: (locked?.status ?? consultation.status).toUpperCase() });
      }
      const current = await frontDesk.delayOf(consultation.id);
      if (current?.minutes === minutes) return locked;
      if ((current?.announcements ?? 0) >= MAX_ANNOUNCEMENTS) {
        throw badInput(`At most ${MAX_ANNOUNCEMENTS} delay announcements per consultation`, "minutes");
      }
      const now = this.#now();
      const row = await frontDesk.announceDelay(consultation.id, minutes, actor.userId, now);
      // For the room found under the lock: one provisioned meanwhile gets tokens for the moved window too.
      const tokens = mint && locked.roomId ? await mint(locked.roomId, minutes) : null;
      if (tokens && locked.roomId) await consultationWrites.setRoom(consultation.id, locked.roomId, tokens);
      await eventLog.append([{ consultationId: consultation.id, type: "RUNNING_LATE", occurredAt: now, status: "pending", delayMinutes: minutes, dedupeKey: `delay:${row.announcements}` }]);
      await audit.insert([entry(actor, "consultation.delay", locked)]);
      return locked;
    });
  }
}
