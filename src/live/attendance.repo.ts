/** The facts behind an attendance ledger, for many consultations at once (three statements). */
import { and, inArray, sql } from "drizzle-orm";
import { groupBy } from "../kit/collections.js";
import { anyOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { hmsPeerConnections as peers, hmsSessions as sessions, hmsWebhookEvents as inbox } from "../db/schema.js";
import type { AttendanceConnection, Delivery } from "../consultations/attendance.js";

export interface AttendanceFacts {
  connections: AttendanceConnection[];
  closes: Date[];
  deliveries: Delivery[];
}

/** The deliveries an interval can rest on: joins, leaves and session closes. */
const LEDGER_TYPES = ["peer.join.success", "peer.leave.success", "session.close.success", "room.end.success"];

export class AttendanceRepo {
  constructor(private readonly db: Db) {}

  async factsOfMany(consultations: ReadonlyArray<{ id: string; roomId: string | null }>): Promise<Map<string, AttendanceFacts>> {
    const ids = consultations.map((c) => c.id);
    const roomIds = consultations.flatMap((c) => (c.roomId ? [c.roomId] : []));
    const [connections, closes, deliveries] = await Promise.all([this.#connections(ids), this.#closes(ids), this.#deliveries(roomIds)]);
    return new Map(consultations.map((c) => [c.id, {
      connections: connections.get(c.id) ?? [],
      closes: closes.get(c.id) ?? [],
      deliveries: (c.roomId && deliveries.get(c.roomId)) || [],
    }]));
  }

  async #connections(ids: readonly string[]) {
    const rows = await this.db
      .select({
        consultationId: peers.consultationId, peerId: peers.peerId, side: peers.side, sessionId: peers.sessionId,
        joinedAt: peers.joinedAt, joinedInferred: peers.joinedInferred, leftAt: peers.leftAt, leftInferred: peers.leftInferred, leftReason: peers.leftReason,
      })
      .from(peers)
      .where(anyOf(peers.consultationId, ids));
    return groupBy(rows, (r) => r.consultationId, ({ consultationId: _, ...c }): AttendanceConnection => c);
  }

  async #closes(ids: readonly string[]) {
    const rows = await this.db
      .select({ consultationId: sessions.consultationId, stoppedAt: sessions.stoppedAt, roomEndedAt: sessions.roomEndedAt })
      .from(sessions)
      .where(anyOf(sessions.consultationId, ids));
    const closes = groupBy(rows, (r) => r.consultationId, (r) => [r.stoppedAt, r.roomEndedAt].filter((d): d is Date => d !== null));
    return new Map([...closes].map(([id, dates]) => [id, dates.flat()]));
  }

  /** Only the ids and the fields that place a delivery: never the payload's names. */
  async #deliveries(roomIds: readonly string[]) {
    if (roomIds.length === 0) return new Map<string, Delivery[]>();
    const rows = await this.db
      .select({
        roomId: inbox.roomId,
        id: inbox.id,
        type: inbox.type,
        peerId: sql<string | null>`${inbox.payload}->'data'->>'peer_id'`,
        sessionId: sql<string | null>`${inbox.payload}->'data'->>'session_id'`,
      })
      .from(inbox)
      .where(and(anyOf(inbox.roomId, roomIds), inArray(inbox.type, LEDGER_TYPES), sql`${inbox.outcome} = 'applied'`));
    return groupBy(rows, (r) => r.roomId ?? "", ({ roomId: _, ...d }): Delivery => d);
  }
}
