/**
 * Writes to `video_consultations` (and the appointment status the clinic's app shows).
 * Status changes are compare-and-set on the current status, so two concurrent requests
 * cannot both win; callers re-read and re-decide when a CAS loses.
 */
import { createHash } from "node:crypto";
import { and, asc, eq, sql } from "drizzle-orm";
import { ownedBy } from "../access/access-policy.js";
import type { Viewer } from "../auth/viewer.js";
import type { AppointmentRecord, AppointmentStatus } from "../clinic/clinic.model.js";
import { appointmentColumns } from "../clinic/clinic.repo.js";
import { anyOfPlaceholder, arrayLiteral } from "../db/batch-sql.js";
import { builtOnce } from "../db/built-once.js";
import type { Db } from "../db/client.js";
import { appointments, consultationClosures, videoConsultations as vc } from "../db/schema.js";
import type { ConsultationRecord, ConsultationStatus } from "./consultation.model.js";
import type { CallTimes } from "./lifecycle.js";
import type { CallEnd } from "./departures.js";
import type { NoShow } from "./no-shows.js";
import { consultationColumns } from "./consultation.repo.js";

export interface LegacyTokens {
  doctorToken: string;
  patientToken: string;
}

export interface Closure {
  from: ConsultationStatus;
  to: "completed" | "cancelled";
  endedAt: Date | null;
  durationSeconds: number | null;
  appointmentStatus: AppointmentStatus;
  closedByUserId: string | null;
  reason: string | null;
  /** Why the call ended (departures.ts `CallEnd`). */
  cause: CallEnd;
  /** At expiry: which side never came, and how long the other waited. */
  noShow?: NoShow;
}

export class ConsultationWriteRepo {
  constructor(private readonly db: Db) {}

  /** The appointment when the viewer is its doctor or patient, or an admin; else null. */
  async findVisibleAppointment(viewer: Viewer, appointmentId: string): Promise<AppointmentRecord | null> {
    const [row] = await this.db
      .select(appointmentColumns)
      .from(appointments)
      .where(and(eq(appointments.id, appointmentId), ownedBy(viewer, appointments)))
      .limit(1);
    return row ?? null;
  }

  /**
   * Creates the appointment's consultation unless the clinic's system already did. The id
   * is derived from the appointment id, so an attempt that rolled back after 100ms created
   * the room comes back with the same id, hence the same room name: no orphaned rooms.
   */
  async insertIfAbsent(appointment: AppointmentRecord): Promise<void> {
    await this.db
      .insert(vc)
      .values({
        id: consultationIdFor(appointment.id),
        appointmentId: appointment.id,
        doctorId: appointment.doctorId,
        patientId: appointment.patientId,
      })
      .onConflictDoNothing({ target: vc.appointmentId });
  }

  /** Reads and row-locks (FOR UPDATE) until the transaction ends. */
  async lockByAppointmentId(appointmentId: string): Promise<ConsultationRecord | null> {
    const [row] = await this.db.select(consultationColumns).from(vc).where(eq(vc.appointmentId, appointmentId)).for("update");
    return row ?? null;
  }

  /**
   * Row-locks in id order, so two batches over the same consultations cannot deadlock; says
   * which were completed by the call itself (closed by nobody) rather than by a person. Sent
   * when called (statements sent after it on the transaction run with the rows locked).
   */
  async lockByIds(ids: readonly string[]): Promise<Array<ConsultationRecord & { endedByCall: boolean; closureCause: string | null }>> {
    return await lockStatement(this.db).execute({ ids: arrayLiteral(ids) });
  }

  /** New times for a call that started, as its facts say (CAS on the status: times never move it). */
  async retime(id: string, status: ConsultationStatus, times: CallTimes): Promise<ConsultationRecord | null> {
    const [row] = await this.db
      .update(vc)
      .set({ ...times, updatedAt: new Date() })
      .where(and(eq(vc.id, id), eq(vc.status, status)))
      .returning(consultationColumns);
    return row ?? null;
  }

  /** Sets the room once: a consultation that already has one keeps it. */
  async setRoom(id: string, roomId: string, tokens: LegacyTokens | null): Promise<ConsultationRecord | null> {
    const [row] = await this.db
      .update(vc)
      .set({ roomId, ...(tokens ?? {}), updatedAt: new Date() })
      .where(eq(vc.id, id))
      .returning(consultationColumns);
    return row ?? null;
  }

  /** PENDING -> ACTIVE (CAS). Null when the status had moved on. */
  async activate(id: string, startedAt: Date): Promise<ConsultationRecord | null> {
    const [row] = await this.db
      .update(vc)
      .set({ status: "active", startedAt, updatedAt: new Date() })
      .where(and(eq(vc.id, id), eq(vc.status, "pending")))
      .returning(consultationColumns);
    return row ?? null;
  }

  /**
   * CAS from `closure.from`; clears the legacy tokens, sets the appointment's status and
   * records who closed it. Null when the status had moved on (the caller decides again).
   */
  async close(id: string, appointmentId: string, closure: Closure): Promise<ConsultationRecord | null> {
    const [row] = await this.db
      .update(vc)
      .set({
        status: closure.to,
        endedAt: closure.endedAt,
        durationSeconds: closure.durationSeconds,
        doctorToken: null,
        patientToken: null,
        updatedAt: new Date(),
      })
      .where(and(eq(vc.id, id), eq(vc.status, closure.from)))
      .returning(consultationColumns);
    if (!row) return null;
    await this.db
      .update(appointments)
      .set({ status: closure.appointmentStatus, updatedAt: new Date() })
      .where(eq(appointments.id, appointmentId));
    await this.db
      .insert(consultationClosures)
      .values({ consultationId: id, outcome: closure.to, closedByUserId: closure.closedByUserId, reason: closure.reason, cause: closure.cause,
        ...(closure.noShow && { noShow: closure.noShow.absent, waitedSeconds: Math.round(closure.noShow.waitedMs / 1000) }) })
      .onConflictDoNothing();
    return row;
  }

  /** A call that finished by itself learns why later (a room end reported after its completion). */
  async setClosureCause(id: string, cause: CallEnd): Promise<void> {
    await this.db.update(consultationClosures).set({ cause }).where(eq(consultationClosures.consultationId, id));
  }
}

/** A UUID (version 5 layout, SHA-1 over a fixed namespace) determined by the appointment id. */
export function consultationIdFor(appointmentId: string): string {
  const hash = createHash("sha1").update("video-consultation:").update(appointmentId.toLowerCase()).digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The apply's lock on a batch's consultations, built once (db/built-once.ts): every batch of webhooks takes it. */
const lockStatement = builtOnce("lock_consultations", (db) => db
  .select({
    ...consultationColumns,
    endedByCall: sql<boolean>`coalesce(${consultationClosures.outcome} = 'completed' and ${consultationClosures.closedByUserId} is null, false)`,
    closureCause: consultationClosures.cause,
  })
  .from(vc)
  .leftJoin(consultationClosures, eq(consultationClosures.consultationId, vc.id))
  .where(anyOfPlaceholder(vc.id, "ids"))
  .orderBy(asc(vc.id))
  .for("update", { of: vc }));
