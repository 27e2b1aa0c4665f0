/** Builders with overrides: each call makes unique rows, so test files never collide. */
import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "../../src/db/client.js";
import {
  appointments,
  doctors,
  patients,
  prescriptions,
  users,
  videoConsultations,
  type LegacyMedication,
} from "../../src/db/schema.js";

const unique = () => randomUUID().slice(0, 8);

export async function createUser(db: Db, role: "patient" | "doctor" | "admin", fullName?: string) {
  const [user] = await db
    .insert(users)
    .values({ email: `${role}-${unique()}@test.clinic`, fullName: fullName ?? `${role} ${unique()}`, role })
    .returning();
  return user!;
}

export async function createDoctor(db: Db, overrides: { fullName?: string; specialty?: string } = {}) {
  const user = await createUser(db, "doctor", overrides.fullName);
  const [doctor] = await db
    .insert(doctors)
    .values({ userId: user.id, specialty: overrides.specialty ?? "Dermatology", licenseNumber: `LIC-${unique()}` })
    .returning();
  return { user, doctor: doctor! };
}

export async function createPatient(db: Db, overrides: { fullName?: string } = {}) {
  const user = await createUser(db, "patient", overrides.fullName);
  const [patient] = await db.insert(patients).values({ userId: user.id }).returning();
  return { user, patient: patient! };
}

export async function createAppointment(
  db: Db,
  input: {
    doctorId: string;
    patientId: string;
    scheduledAt?: Date;
    durationMinutes?: number;
    type?: "video" | "in_person";
    reason?: string;
  },
) {
  const [appointment] = await db
    .insert(appointments)
    .values({ ...input, scheduledAt: input.scheduledAt ?? new Date(Date.now() + 3_600_000) })
    .returning();
  return appointment!;
}

export async function createConsultation(
  db: Db,
  input: { doctorId: string; patientId: string; scheduledAt?: Date; status?: "pending" | "active" | "completed" | "cancelled" },
) {
  const { status, ...booking } = input;
  const appointment = await createAppointment(db, booking);
  const [consultation] = await db
    .insert(videoConsultations)
    .values({
      appointmentId: appointment.id,
      doctorId: input.doctorId,
      patientId: input.patientId,
      status: status ?? "pending",
    })
    .returning();
  return { appointment, consultation: consultation! };
}

export async function createPrescription(
  db: Db,
  input: { appointmentId: string; consultationId: string; doctorId: string; patientId: string; createdAt?: Date },
  medications: LegacyMedication[] = [{ name: "Amoxicillin", dosage: "500 mg", frequency: "3x daily", duration_days: 7 }],
) {
  const [row] = await db.insert(prescriptions).values({ ...input, medications }).returning();
  return row!;
}

/** A doctor and a patient of their own, plus one consultation between them. */
export async function createCareTeam(db: Db) {
  const doctor = await createDoctor(db);
  const patient = await createPatient(db);
  const { appointment, consultation } = await createConsultation(db, {
    doctorId: doctor.doctor.id,
    patientId: patient.patient.id,
  });
  return { doctor, patient, appointment, consultation };
}

/** A care team whose consultation has the 100ms room `room-<id>` and is booked for now. */
export async function createCareTeamWithRoom(db: Db) {
  const t = await createCareTeam(db);
  const roomId = `room-${t.consultation.id}`;
  await db.update(videoConsultations).set({ roomId }).where(eq(videoConsultations.id, t.consultation.id));
  const [appointment] = await db.update(appointments).set({ scheduledAt: new Date() }).where(eq(appointments.id, t.appointment.id)).returning();
  return { ...t, appointment: appointment!, roomId, parties: { roomId, doctorUserId: t.doctor.user.id, patientUserId: t.patient.user.id } };
}
