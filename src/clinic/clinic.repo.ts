/**
 * Reads of the clinic's legacy tables (users, doctors, patients, appointments). Batch
 * lookups by id feed the per-request DataLoaders: one statement per batch.
 */
import { eq, inArray } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { appointments, doctors, patients, users } from "../db/schema.js";
import type { AppointmentRecord, DoctorRecord, PatientRecord, UserRecord } from "./clinic.model.js";

export class ClinicRepo {
  constructor(private readonly db: Db) {}

  async findUser(userId: string): Promise<UserRecord | null> {
    const [row] = await this.db
      .select({
        id: users.id,
        fullName: users.fullName,
        role: users.role,
        doctorId: doctors.id,
        patientId: patients.id,
      })
      .from(users)
      .leftJoin(doctors, eq(doctors.userId, users.id))
      .leftJoin(patients, eq(patients.userId, users.id))
      .where(eq(users.id, userId))
      .limit(1);
    return row ?? null;
  }

  doctorsByIds(ids: readonly string[]): Promise<DoctorRecord[]> {
    return this.db
      .select({ id: doctors.id, userId: doctors.userId, fullName: users.fullName, specialty: doctors.specialty })
      .from(doctors)
      .innerJoin(users, eq(users.id, doctors.userId))
      .where(inArray(doctors.id, [...ids]));
  }

  patientsByIds(ids: readonly string[]): Promise<PatientRecord[]> {
    return this.db
      .select({ id: patients.id, userId: patients.userId, fullName: users.fullName })
      .from(patients)
      .innerJoin(users, eq(users.id, patients.userId))
      .where(inArray(patients.id, [...ids]));
  }

  appointmentsByIds(ids: readonly string[]): Promise<AppointmentRecord[]> {
    return this.db.select(appointmentColumns).from(appointments).where(inArray(appointments.id, [...ids]));
  }
}

/** The appointment columns the API reads, shaped as an AppointmentRecord. */
export const appointmentColumns = {
  id: appointments.id,
  patientId: appointments.patientId,
  doctorId: appointments.doctorId,
  scheduledAt: appointments.scheduledAt,
  durationMinutes: appointments.durationMinutes,
  type: appointments.type,
  status: appointments.status,
  reason: appointments.reason,
};
