/** Domain records of video consultations, as the API uses them (not table rows). */
import type { AppointmentRecord } from "../clinic/clinic.model.js";

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
  scheduledAt: Date;
  id: string;
}
