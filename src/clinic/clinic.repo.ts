/**
 * Reads of the clinic's legacy tables (users, doctors, patients, appointments). Batch
 * lookups by id feed the per-request DataLoaders: one statement per batch.
 */
import { eq, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { anyOf } from "../db/batch-sql.js";
import { builtOnce } from "../db/built-once.js";
import type { Db } from "../db/client.js";
import { appointments, doctors, patients, users } from "../db/schema.js";
import type { AppointmentRecord, DoctorRecord, PatientRecord, UserRecord } from "./clinic.model.js";

/** `users` joined as a doctor's and as a patient's user, for reads that need both names at once. */
export const doctorUsers = alias(users, "doctor_user");
export const patientUsers = alias(users, "patient_user");

/** A DoctorRecord's columns, its name from `doctorUsers`. */
export const doctorColumns = { id: doctors.id, userId: doctors.userId, fullName: doctorUsers.fullName, specialty: doctors.specialty };
/** A PatientRecord's columns, its name from `patientUsers`. */
export const patientColumns = { id: patients.id, userId: patients.userId, fullName: patientUsers.fullName };

export class ClinicRepo {
  constructor(private readonly db: Db) {}

  async findUser(userId: string): Promise<UserRecord | null> {
    const [row] = await findUserStatement(this.db).execute({ userId });
    return row ?? null;
  }

  /** `findUser` for many users in one statement (users.id is unique: at most one row each). */
  findUsers(userIds: readonly string[]): Promise<UserRecord[]> {
    return this.db
      .select({ id: users.id, fullName: users.fullName, role: users.role, doctorId: doctors.id, patientId: patients.id })
      .from(users)
      .leftJoin(doctors, eq(doctors.userId, users.id))
      .leftJoin(patients, eq(patients.userId, users.id))
      .where(anyOf(users.id, userIds));
  }

  doctorsByIds(ids: readonly string[]): Promise<DoctorRecord[]> {
    return this.db
      .select(doctorColumns)
      .from(doctors)
      .innerJoin(doctorUsers, eq(doctorUsers.id, doctors.userId))
      .where(anyOf(doctors.id, ids));
  }

  patientsByIds(ids: readonly string[]): Promise<PatientRecord[]> {
    return this.db
      .select(patientColumns)
      .from(patients)
      .innerJoin(patientUsers, eq(patientUsers.id, patients.userId))
      .where(anyOf(patients.id, ids));
  }

  appointmentsByIds(ids: readonly string[]): Promise<AppointmentRecord[]> {
    return this.db.select(appointmentColumns).from(appointments).where(anyOf(appointments.id, ids));
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

/** Built once (db/built-once.ts): every authenticated request runs it, and every unit of work makes a ClinicRepo. */
const findUserStatement = builtOnce("find_user", (db) => db
  .select({ id: users.id, fullName: users.fullName, role: users.role, doctorId: doctors.id, patientId: patients.id })
  .from(users)
  .leftJoin(doctors, eq(doctors.userId, users.id))
  .leftJoin(patients, eq(patients.userId, users.id))
  .where(eq(users.id, sql.placeholder("userId")))
  .limit(1));
