/** Domain records of the clinic's people and bookings, as the API uses them (not table rows). */
import type { UserRole } from "../auth/viewer.js";

export interface UserRecord {
  id: string;
  fullName: string;
  role: UserRole;
  doctorId: string | null;
  patientId: string | null;
}

export interface DoctorRecord {
  id: string;
  userId: string;
  fullName: string;
  specialty: string;
}

export interface PatientRecord {
  id: string;
  userId: string;
  fullName: string;
}

export type AppointmentStatus = "scheduled" | "confirmed" | "completed" | "cancelled" | "no_show";

export interface AppointmentRecord {
  id: string;
  patientId: string;
  doctorId: string;
  scheduledAt: Date;
  durationMinutes: number;
  type: "video" | "in_person";
  status: AppointmentStatus;
  reason: string | null;
}
