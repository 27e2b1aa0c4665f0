/**
 * The consultations (and their appointments) one viewer may see: built once per request, and
 * once per subscription, from the login (`GraphQLContext.visible`, `Services.visibleTo`), and
 * handed to every use case that acts for a user. Its reads are scoped by the access policy
 * (`access/access-policy.ts`), so a use case written against it cannot forget the viewer; it
 * is the only caller of the repositories' viewer-scoped reads. The system's own reads
 * (webhooks, the reconciler, loaders reached through an already visible parent) use the
 * repositories' unscoped methods, named as such where they are wired (app/services.ts).
 */
import type { AppointmentRecord } from "../clinic/clinic.model.js";
import type { Viewer } from "../auth/viewer.js";
import { notFound } from "../kit/errors.js";
import { parseId } from "../kit/ids.js";
import type { ConsultationFound, ConsultationListQuery, ConsultationListRow, ConsultationRecord, TimelineRequest } from "./consultation.model.js";
import type { ConsultationRepo } from "./consultation.repo.js";
import type { ConsultationWriteRepo } from "./consultation-write.repo.js";

export class VisibleConsultations {
  constructor(
    readonly viewer: Viewer,
    private readonly reads: ConsultationRepo,
    private readonly writes: ConsultationWriteRepo,
  ) {}

  /** The consultation, or null when it does not exist or the viewer may not see it (the same answer). */
  find(id: string, field = "id"): Promise<ConsultationRecord | null> {
    return this.reads.findVisible(this.viewer, parseId(id, field));
  }

  /**
   * `find`, with the consultation's appointment, people and presence (and, when asked, a page
   * of its timeline) read in the same statement.
   */
  findRow(id: string, field = "id", timeline?: TimelineRequest): Promise<ConsultationFound | null> {
    return this.reads.findRowVisible(this.viewer, parseId(id, field), timeline);
  }

  /** The consultation, or NOT_FOUND. */
  async get(id: string, field = "consultationId"): Promise<ConsultationRecord> {
    const consultation = await this.find(id, field);
    if (!consultation) throw notFound("Consultation");
    return consultation;
  }

  /** A page of the viewer's consultations with what the dashboard shows of each. */
  list(query: ConsultationListQuery): Promise<ConsultationListRow[]> {
    return this.reads.listVisible(this.viewer, query);
  }

  /** The appointment when the viewer is its doctor or patient, or an admin; else null. */
  findAppointment(id: string, field = "appointmentId"): Promise<AppointmentRecord | null> {
    return this.writes.findVisibleAppointment(this.viewer, parseId(id, field));
  }
}
