/**
 * Reads of `video_consultations`. Every query is scoped to what the viewer may see: a
 * patient their own, a doctor theirs, an admin all. Business rules live in the service.
 */
import { and, asc, eq, gt, gte, inArray, lt, or } from "drizzle-orm";
import { ownedBy } from "../auth/scope.js";
import type { Viewer } from "../auth/viewer.js";
import { appointmentColumns } from "../clinic/clinic.repo.js";
import { anyOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import type { RoomMembers } from "../live/presence.js";
import { appointments, doctors, patients, videoConsultations as vc } from "../db/schema.js";
import type {
  ConsultationListQuery,
  ConsultationRecord,
  ConsultationWithAppointment,
} from "./consultation.model.js";

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

/** A room's consultation and the users behind its two sides. */
export interface ConsultationMembers extends RoomMembers {
  consultationId: string;
}

export class ConsultationRepo {
  constructor(private readonly db: Db) {}

  async findVisible(viewer: Viewer, id: string): Promise<ConsultationRecord | null> {
    const [row] = await this.db
      .select(consultationColumns)
      .from(vc)
      .where(and(eq(vc.id, id), ownedBy(viewer, vc)))
      .limit(1);
    return row ?? null;
  }

  /** One statement: the page of consultations joined with their appointments. */
  async listVisible(viewer: Viewer, query: ConsultationListQuery): Promise<ConsultationWithAppointment[]> {
    const { statuses, from, to, after, limit } = query;
    const rows = await this.db
      .select({ consultation: consultationColumns, appointment: appointmentColumns })
      .from(vc)
      .innerJoin(appointments, eq(appointments.id, vc.appointmentId))
      .where(
        and(
          ownedBy(viewer, vc),
          statuses && statuses.length > 0 ? inArray(vc.status, [...statuses]) : undefined,
          from ? gte(appointments.scheduledAt, from) : undefined,
          to ? lt(appointments.scheduledAt, to) : undefined,
          after
            ? or(
                gt(appointments.scheduledAt, after.scheduledAt),
                and(eq(appointments.scheduledAt, after.scheduledAt), gt(vc.id, after.id)),
              )
            : undefined,
        ),
      )
      .orderBy(asc(appointments.scheduledAt), asc(vc.id))
      .limit(limit);
    return rows;
  }

  byAppointmentIds(appointmentIds: readonly string[]): Promise<ConsultationRecord[]> {
    return this.db
      .select(consultationColumns)
      .from(vc)
      .where(inArray(vc.appointmentId, [...appointmentIds]));
  }

  /** The consultation of a 100ms room, with the users.id of each side (to map peers to sides). */
  async findRoomMembers(roomId: string): Promise<ConsultationMembers | null> {
    return (await this.findRoomMembersMany([roomId])).get(roomId) ?? null;
  }

  /** By 100ms room id; rooms that belong to no consultation are absent. */
  async findRoomMembersMany(roomIds: readonly string[]): Promise<Map<string, ConsultationMembers>> {
    if (roomIds.length === 0) return new Map();
    const rows = await this.db
      .select({ roomId: vc.roomId, consultationId: vc.id, doctorUserId: doctors.userId, patientUserId: patients.userId })
      .from(vc)
      .innerJoin(doctors, eq(doctors.id, vc.doctorId))
      .innerJoin(patients, eq(patients.id, vc.patientId))
      .where(anyOf(vc.roomId, roomIds));
    return new Map(rows.map(({ roomId, ...members }) => [roomId!, members]));
  }

  byIds(ids: readonly string[]): Promise<ConsultationRecord[]> {
    return this.db.select(consultationColumns).from(vc).where(inArray(vc.id, [...ids]));
  }
}
