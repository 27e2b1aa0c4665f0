/**
 * A consultation's list row (what a dashboard shows of it, and what an event's fields resolve
 * from): the consultation with its appointment, both sides and the presence projection, each
 * record read as one packed value, in one statement. Read by the consultation repository
 * (pages, one consultation) and by the event log's hub read (the rows of the events it reads).
 */
import { asc, eq, getTableColumns, inArray, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import type { SelectedFields } from "drizzle-orm/pg-core";
import { appointmentColumns, doctorColumns, doctorUsers, patientColumns, patientUsers } from "../clinic/clinic.repo.js";
import type { AppointmentRecord, DoctorRecord, PatientRecord } from "../clinic/clinic.model.js";
import { packedRows, packedValue, packing } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { exactTime } from "../db/exact-time.js";
import { appointments, consultationLive, doctors, patients, videoConsultations as vc } from "../db/schema.js";
import type { ConsultationListRow, ConsultationRecord } from "./consultation.model.js";
import type { LiveRow } from "./presence.repo.js";

export const consultationColumns = {
  id: vc.id,
  appointmentId: vc.appointmentId,
  doctorId: vc.doctorId,
  patientId: vc.patientId,
  roomId: vc.roomId,
  status: vc.status,
  startedAt: vc.startedAt,
  endedAt: vc.endedAt,
  durationSeconds: vc.durationSeconds,
  createdAt: vc.createdAt,
  updatedAt: vc.updatedAt,
};

/** The records of a list row, each read as one value: the consultation, its appointment, both sides, the presence projection. */
const LIST_RECORDS = {
  consultation: packing<ConsultationRecord>(consultationColumns),
  appointment: packing<AppointmentRecord>(appointmentColumns),
  doctor: packing<DoctorRecord>(doctorColumns),
  patient: packing<PatientRecord>(patientColumns),
  live: packing<LiveRow | null>(getTableColumns(consultationLive), consultationLive.consultationId),
};
export const LIST_ROW = { ...LIST_RECORDS, scheduledAtExact: exactTime(appointments.scheduledAt) };

/**
 * A list row's columns and joins: the consultation with its appointment, people and live state,
 * in one statement (and `extra` values of the same row).
 */
export function listRows(db: Db, extra: Record<string, SQL> = {}) {
  const records = LIST_RECORDS;
  return fromListTables(db, {
    consultation: packedValue(records.consultation),
    appointment: packedValue(records.appointment),
    doctor: packedValue(records.doctor),
    patient: packedValue(records.patient),
    live: packedValue(records.live),
    scheduledAtExact: LIST_ROW.scheduledAtExact,
    ...extra,
  });
}

/** `fields` of a consultation joined with its appointment, both sides (with their users) and the presence projection. */
export function fromListTables(db: Db, fields: SelectedFields) {
  return db
    .select(fields)
    .from(vc)
    .innerJoin(appointments, eq(appointments.id, vc.appointmentId))
    .innerJoin(doctors, eq(doctors.id, vc.doctorId))
    .innerJoin(doctorUsers, eq(doctorUsers.id, doctors.userId))
    .innerJoin(patients, eq(patients.id, vc.patientId))
    .innerJoin(patientUsers, eq(patientUsers.id, patients.userId))
    .leftJoin(consultationLive, eq(consultationLive.consultationId, vc.id));
}

/**
 * The list rows of the consultations `ids` selects (a subquery of consultation ids), as one
 * value: for a statement that reads something else and the rows it needs beside it.
 */
export function listRowsOf(db: Db, ids: SQLWrapper): SQL<ConsultationListRow[]> {
  return packedRows<ConsultationListRow>(LIST_ROW, [asc(vc.id)], (rows) => sql`(${fromListTables(db, { rows }).where(inArray(vc.id, ids))})`);
}
