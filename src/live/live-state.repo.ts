/** The presence projection (`consultation_live`): written on every recompute, read by GraphQL. */
import { inArray } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { consultationLive as live } from "../db/schema.js";
import type { Timeline } from "./presence.js";

export type LiveRow = typeof live.$inferSelect;

export class LiveStateRepo {
  constructor(private readonly db: Db) {}

  async save(consultationId: string, timeline: Timeline): Promise<void> {
    const { doctor, patient } = timeline.sides;
    const values = {
      consultationId,
      doctorOnline: doctor.online,
      doctorPeerId: doctor.peerId,
      doctorJoinedAt: doctor.joinedAt,
      doctorLeftAt: doctor.leftAt,
      patientOnline: patient.online,
      patientPeerId: patient.peerId,
      patientJoinedAt: patient.joinedAt,
      patientLeftAt: patient.leftAt,
      connectedMs: timeline.connectedMs,
      bothSince: timeline.bothSince,
      updatedAt: new Date(),
    };
    const { consultationId: _key, ...changes } = values;
    await this.db.insert(live).values(values).onConflictDoUpdate({ target: live.consultationId, set: changes });
  }

  byConsultationIds(ids: readonly string[]): Promise<LiveRow[]> {
    return this.db.select().from(live).where(inArray(live.consultationId, [...ids]));
  }
}
