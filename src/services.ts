/** Builds the repositories and services over one database; main.ts and tests call this. */
import type { Viewer } from "./auth/viewer.js";
import { ClinicRepo } from "./clinic/clinic.repo.js";
import { ConsultationRepo } from "./consultations/consultation.repo.js";
import { ConsultationService } from "./consultations/consultation.service.js";
import type { Db } from "./db/client.js";
import { PrescriptionRepo } from "./prescriptions/prescription.repo.js";

export function createRepos(db: Db) {
  return {
    clinic: new ClinicRepo(db),
    consultations: new ConsultationRepo(db),
    prescriptions: new PrescriptionRepo(db),
  };
}

export type Repos = ReturnType<typeof createRepos>;

export function createServices(db: Db, options: { maxPageSize: number }) {
  const repos = createRepos(db);
  return {
    repos,
    maxPageSize: options.maxPageSize,
    consultations: new ConsultationService(repos.consultations, options.maxPageSize),
    /** The Viewer behind a token's `sub`, with the role from the users row; null if unknown. */
    findViewer: async (userId: string): Promise<Viewer | null> => {
      const user = await repos.clinic.findUser(userId);
      return user && { userId: user.id, role: user.role, doctorId: user.doctorId, patientId: user.patientId };
    },
  };
}

export type Services = ReturnType<typeof createServices>;
