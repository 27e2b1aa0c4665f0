/**
 * Every repository over one database handle, and the unit of work: the same repositories
 * bound to one transaction. Services compose repositories; repositories only read and write
 * rows (no events, no audit, no decisions).
 */
import { AuditRepo } from "../audit/audit.repo.js";
import { ClinicRepo } from "../clinic/clinic.repo.js";
import { ConsultationWriteRepo } from "../consultations/consultation-write.repo.js";
import { ConsultationRepo } from "../consultations/consultation.repo.js";
import { FrontDeskRepo } from "../consultations/frontdesk.repo.js";
import { planEachRun, type Db } from "../db/client.js";
import { AttendanceRepo } from "../attendance/attendance.repo.js";
import { EventLogRepo } from "../live/event-log.repo.js";
import { LiveStateRepo, PeerFactsRepo } from "../consultations/presence.repo.js";
import { PrescriptionWriteRepo } from "../prescriptions/prescription-write.repo.js";
import { PrescriptionRepo } from "../prescriptions/prescription.repo.js";
import { InboxRepo } from "../webhooks/inbox.repo.js";

export function createRepos(db: Db) {
  return {
    clinic: new ClinicRepo(db),
    consultations: new ConsultationRepo(db),
    consultationWrites: new ConsultationWriteRepo(db),
    frontDesk: new FrontDeskRepo(db),
    prescriptions: new PrescriptionRepo(db),
    prescriptionWrites: new PrescriptionWriteRepo(db),
    live: new LiveStateRepo(db),
    peerFacts: new PeerFactsRepo(db),
    attendance: new AttendanceRepo(db),
    audit: new AuditRepo(db),
    eventLog: new EventLogRepo(db),
    inbox: new InboxRepo(db),
  };
}

export type Repos = ReturnType<typeof createRepos>;

/** Runs `work` in one transaction, handing it the repositories bound to that transaction. */
export type UnitOfWork = <T>(work: (repos: Repos) => Promise<T>) => Promise<T>;

/** `planEachRun`: the transaction's statements are planned on every run (see db/client.ts), for the webhook path. */
export function unitOfWork(db: Db, options: { planEachRun?: boolean } = {}): UnitOfWork {
  if (!options.planEachRun) return (work) => db.transaction((tx) => work(createRepos(tx)));
  return (work) =>
    db.transaction(async (tx) => {
      const planning = planEachRun(tx);
      const result = await work(createRepos(tx));
      await planning;
      return result;
    });
}
