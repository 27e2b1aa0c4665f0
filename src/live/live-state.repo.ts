/** The presence projection (`consultation_live`): written on every recompute, read by GraphQL. */
import { sql } from "drizzle-orm";
import { anyOf, insertRows, setExcluded } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { consultationLive as live } from "../db/schema.js";
import type { Timeline } from "../consultations/presence.js";
import type { Reconnects } from "../consultations/reconnects.js";

export type LiveRow = typeof live.$inferSelect;

export class LiveStateRepo {
  constructor(private readonly db: Db) {}

  /** One upsert for many consultations. */
  async saveMany(items: ReadonlyArray<{ consultationId: string; timeline: Timeline; reconnects: Reconnects }>): Promise<void> {
    if (items.length === 0) return;
    const updatedAt = new Date();
    const values = items.map(({ consultationId, timeline, reconnects }) => {
      const { doctor, patient } = timeline.sides;
      return {
        consultationId,
        doctorOnline: doctor.online,
        doctorPeerId: doctor.peerId,
        doctorJoinedAt: doctor.joinedAt,
        doctorLeftAt: doctor.leftAt,
        doctorLeftReason: timeline.leftReasons.doctor,
        doctorReconnectingUntil: reconnects.until.doctor,
        patientOnline: patient.online,
        patientPeerId: patient.peerId,
        patientJoinedAt: patient.joinedAt,
        patientLeftAt: patient.leftAt,
        patientLeftReason: timeline.leftReasons.patient,
        patientReconnectingUntil: reconnects.until.patient,
        connectedMs: timeline.connectedMs,
        bothSince: timeline.bothSince,
        updatedAt,
      };
    });
    const { consultationId: _key, ...changes } = values[0]!;
    const keys = Object.keys(changes) as Array<keyof typeof changes>;
    await this.db.execute(sql`${insertRows(live, ["consultationId", ...keys], values)}
      on conflict (consultation_id) do update set ${setExcluded(live, keys)}`);
  }

  byConsultationIds(ids: readonly string[]): Promise<LiveRow[]> {
    return this.db.select().from(live).where(anyOf(live.consultationId, ids));
  }
}
