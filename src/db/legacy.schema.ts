/**
 * The clinic's existing tables, mapped exactly as deployed (see test/fixtures/legacy-schema.sql).
 *
 * Never change a column or constraint here: the tables belong to the clinic's app. Every
 * constraint and index carries the name PostgreSQL gave it in production, so that the
 * idempotent baseline migration recognises them instead of adding duplicates.
 */
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).defaultNow().notNull();
const updatedAt = () => timestamp("updated_at", { withTimezone: true, mode: "date" }).defaultNow().notNull();

export const users = pgTable(
  "users",
  {
    id: uuid("id").defaultRandom().primaryKey(),
    email: text("email").notNull(),
    fullName: text("full_name").notNull(),
    phone: text("phone"),
    role: text("role", { enum: ["patient", "doctor", "admin"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("users_email_key").on(t.email),
    check("users_role_check", sql`${t.role} IN ('patient', 'doctor', 'admin')`),
  ],
);

export const doctors = pgTable(
  "doctors",
  {
    id: uuid("id").defaultRandom().primaryKey(),
    userId: uuid("user_id").notNull(),
    specialty: text("specialty").notNull(),
    licenseNumber: text("license_number").notNull(),
    consultationFee: numeric("consultation_fee", { precision: 10, scale: 2 }),
    isAvailable: boolean("is_available").default(true).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("doctors_user_id_key").on(t.userId),
    foreignKey({ name: "doctors_user_id_fkey", columns: [t.userId], foreignColumns: [users.id] }),
  ],
);

export const patients = pgTable(
  "patients",
  {
    id: uuid("id").defaultRandom().primaryKey(),
    userId: uuid("user_id").notNull(),
    dateOfBirth: date("date_of_birth"),
    gender: text("gender"),
    allergies: text("allergies"),
    createdAt: createdAt(),
  },
  (t) => [
    unique("patients_user_id_key").on(t.userId),
    foreignKey({ name: "patients_user_id_fkey", columns: [t.userId], foreignColumns: [users.id] }),
  ],
);

export const appointments = pgTable(
  "appointments",
  {
    id: uuid("id").defaultRandom().primaryKey(),
    patientId: uuid("patient_id").notNull(),
    doctorId: uuid("doctor_id").notNull(),
    scheduledAt: timestamp("scheduled_at", { withTimezone: true, mode: "date" }).notNull(),
    durationMinutes: integer("duration_minutes").default(30).notNull(),
    type: text("type", { enum: ["video", "in_person"] }).default("video").notNull(),
    status: text("status", { enum: ["scheduled", "confirmed", "completed", "cancelled", "no_show"] })
      .default("scheduled")
      .notNull(),
    reason: text("reason"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    index("appointments_doctor_scheduled_idx").on(t.doctorId, t.scheduledAt),
    index("appointments_patient_scheduled_idx").on(t.patientId, t.scheduledAt),
    foreignKey({ name: "appointments_patient_id_fkey", columns: [t.patientId], foreignColumns: [patients.id] }),
    foreignKey({ name: "appointments_doctor_id_fkey", columns: [t.doctorId], foreignColumns: [doctors.id] }),
    check("appointments_duration_minutes_check", sql`${t.durationMinutes} > 0`),
    check("appointments_type_check", sql`${t.type} IN ('video', 'in_person')`),
    check(
      "appointments_status_check",
      sql`${t.status} IN ('scheduled', 'confirmed', 'completed', 'cancelled', 'no_show')`,
    ),
  ],
);

/**
 * One row per video appointment. `room_id` and the two token columns were filled by the
 * old client-side flow; app versions in the field still read `patient_token`/`doctor_token`.
 */
export const videoConsultations = pgTable(
  "video_consultations",
  {
    id: uuid("id").defaultRandom().primaryKey(),
    appointmentId: uuid("appointment_id").notNull(),
    doctorId: uuid("doctor_id").notNull(),
    patientId: uuid("patient_id").notNull(),
    roomId: text("room_id"),
    patientToken: text("patient_token"),
    doctorToken: text("doctor_token"),
    status: text("status", { enum: ["pending", "active", "completed", "cancelled"] }).default("pending").notNull(),
    startedAt: timestamp("started_at", { withTimezone: true, mode: "date" }),
    endedAt: timestamp("ended_at", { withTimezone: true, mode: "date" }),
    durationSeconds: integer("duration_seconds"),
    notes: text("notes"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("video_consultations_appointment_id_key").on(t.appointmentId),
    unique("video_consultations_room_id_key").on(t.roomId),
    index("video_consultations_doctor_idx").on(t.doctorId, t.status),
    index("video_consultations_patient_idx").on(t.patientId, t.status),
    foreignKey({
      name: "video_consultations_appointment_id_fkey",
      columns: [t.appointmentId],
      foreignColumns: [appointments.id],
    }),
    foreignKey({ name: "video_consultations_doctor_id_fkey", columns: [t.doctorId], foreignColumns: [doctors.id] }),
    foreignKey({ name: "video_consultations_patient_id_fkey", columns: [t.patientId], foreignColumns: [patients.id] }),
    check("video_consultations_status_check", sql`${t.status} IN ('pending', 'active', 'completed', 'cancelled')`),
  ],
);

/** One medication as the existing app stores it in `prescriptions.medications`. */
export interface LegacyMedication {
  name: string;
  dosage: string;
  frequency: string;
  duration_days?: number | null;
  instructions?: string | null;
}

export const prescriptions = pgTable(
  "prescriptions",
  {
    id: uuid("id").defaultRandom().primaryKey(),
    appointmentId: uuid("appointment_id").notNull(),
    consultationId: uuid("consultation_id"),
    doctorId: uuid("doctor_id").notNull(),
    patientId: uuid("patient_id").notNull(),
    medications: jsonb("medications").$type<LegacyMedication[]>().notNull(),
    diagnosis: text("diagnosis"),
    notes: text("notes"),
    createdAt: createdAt(),
  },
  (t) => [
    index("prescriptions_consultation_idx").on(t.consultationId),
    foreignKey({ name: "prescriptions_appointment_id_fkey", columns: [t.appointmentId], foreignColumns: [appointments.id] }),
    foreignKey({
      name: "prescriptions_consultation_id_fkey",
      columns: [t.consultationId],
      foreignColumns: [videoConsultations.id],
    }),
    foreignKey({ name: "prescriptions_doctor_id_fkey", columns: [t.doctorId], foreignColumns: [doctors.id] }),
    foreignKey({ name: "prescriptions_patient_id_fkey", columns: [t.patientId], foreignColumns: [patients.id] }),
  ],
);
