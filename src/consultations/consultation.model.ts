/** Domain records of video consultations, as the API uses them (not table rows). */
import type { AppointmentRecord, DoctorRecord, PatientRecord } from "../clinic/clinic.model.js";
import type { ExactTime } from "../kit/cursor.js";
import type { LiveRow } from "./presence.repo.js";
import type { TimelineEventRow } from "./timeline-rows.js";

export type ConsultationStatus = "pending" | "active" | "completed" | "cancelled";

export interface ConsultationRecord {
  id: string;
  appointmentId: string;
  doctorId: string;
  patientId: string;
  roomId: string | null;
  status: ConsultationStatus;
  startedAt: Date | null;
  endedAt: Date | null;
  durationSeconds: number | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ConsultationWithAppointment {
  consultation: ConsultationRecord;
  appointment: AppointmentRecord;
}

/** A list row: the consultation with what a dashboard shows of it, read in the same statement. */
export interface ConsultationListRow extends ConsultationWithAppointment {
  doctor: DoctorRecord;
  patient: PatientRecord;
  /** Null until 100ms reported anything. */
  live: LiveRow | null;
  /** `appointment.scheduledAt` to the microsecond (the Date has milliseconds): its cursor's key. */
  scheduledAtExact: ExactTime;
}

/** A page of a consultation's timeline to read with it: the events after `afterId`, at most `limit`. */
export interface TimelineRequest {
  afterId: number;
  limit: number;
}

/** One consultation as a list row, with the page of its timeline when one was asked for. */
export interface ConsultationFound extends ConsultationListRow {
  timeline?: TimelineEventRow[];
}

export interface ConsultationListQuery {
  statuses?: readonly ConsultationStatus[] | undefined;
  /** Appointments scheduled at or after. */
  from?: Date | undefined;
  /** Appointments scheduled before. */
  to?: Date | undefined;
  after?: ConsultationCursor | undefined;
  limit: number;
}

/** Position in the "soonest appointment first" order: (scheduledAt, consultation id). */
export interface ConsultationCursor {
  scheduledAt: ExactTime;
  id: string;
}
