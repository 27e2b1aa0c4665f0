/** The queries the reconciler needs to find consultations whose state may be stale. */
import { and, eq, isNotNull, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { appointments, consultationDelays as delays, consultationLive as live, hmsPeerConnections as peers, videoConsultations as vc } from "../db/schema.js";
import { consultationColumns } from "../consultations/consultation.repo.js";
import type { ConsultationRecord } from "../consultations/consultation.model.js";

export class ReconcileRepo {
  constructor(private readonly db: Db) {}

  /** Open consultations with somebody marked in the room (a missed leave would hide here). */
  async withSomeoneOnline(limit: number): Promise<Array<{ id: string; roomId: string }>> {
    const rows = await this.db
      .select({ id: vc.id, roomId: vc.roomId })
      .from(vc)
      .innerJoin(live, eq(live.consultationId, vc.id))
      .where(and(or(eq(live.doctorOnline, true), eq(live.patientOnline, true)), isNotNull(vc.roomId)))
      .limit(limit);
    return rows.filter((r): r is { id: string; roomId: string } => r.roomId !== null);
  }

  /** ACTIVE consultations that may be due to complete. */
  async activeIds(limit: number): Promise<string[]> {
    const rows = await this.db.select({ id: vc.id }).from(vc).where(eq(vc.status, "active")).limit(limit);
    return rows.map((r) => r.id);
  }

  /** Peer ids we believe are still in the room. */
  async openPeerIds(consultationId: string): Promise<string[]> {
    const rows = await this.db
      .select({ peerId: peers.peerId })
      .from(peers)
      .where(and(eq(peers.consultationId, consultationId), isNull(peers.leftAt), isNotNull(peers.joinedAt)));
    return rows.map((r) => r.peerId);
  }

  async knownPeerIds(consultationId: string): Promise<Set<string>> {
    const rows = await this.db.select({ peerId: peers.peerId }).from(peers).where(eq(peers.consultationId, consultationId));
    return new Set(rows.map((r) => r.peerId));
  }

  /** PENDING consultations whose join window has closed (whoever joined: the call never became ACTIVE). */
  overduePending(graceMinutes: number, now: Date, limit: number): Promise<ConsultationRecord[]> {
    return this.db
      .select(consultationColumns)
      .from(vc)
      .innerJoin(appointments, eq(appointments.id, vc.appointmentId))
      // A delay the doctor announced moves the window's close (running late).
      .leftJoin(delays, eq(delays.consultationId, vc.id))
      .where(
        and(
          eq(vc.status, "pending"),
          sql`${appointments.scheduledAt} + (${appointments.durationMinutes} + ${graceMinutes}::int + coalesce(${delays.minutes}, 0)) * interval '1 minute' < ${now.toISOString()}::timestamptz`,
        ),
      )
      .limit(limit);
  }
}
