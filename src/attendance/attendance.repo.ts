/** The facts behind an attendance ledger, for many consultations at once (three statements). */
import { and, inArray, sql } from "drizzle-orm";
import { groupBy } from "../kit/collections.js";
import { anyOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { hmsWebhookEvents as inbox } from "../db/schema.js";
import { PeerFactsRepo } from "../consultations/presence.repo.js";
import type { RoomEnd } from "../consultations/departures.js";
import type { AttendanceConnection, Delivery } from "./attendance.js";

export interface AttendanceFacts {
  connections: AttendanceConnection[];
  closes: Date[];
  roomEnds: RoomEnd[];
  deliveries: Delivery[];
}

/** The deliveries an interval (or a failed join) can rest on: joins, leaves, failed joins and session closes. */
const LEDGER_TYPES = ["peer.join.success", "peer.leave.success", "peer.join.failure", "session.close.success", "room.end.success"];

export class AttendanceRepo {
  /** The same reads of the facts as the live timeline's: one ledger, one presence, from one source. */
  readonly #facts: PeerFactsRepo;

  constructor(private readonly db: Db) {
    this.#facts = new PeerFactsRepo(db);
  }

  async factsOfMany(consultations: ReadonlyArray<{ id: string; roomId: string | null }>): Promise<Map<string, AttendanceFacts>> {
    const ids = consultations.map((c) => c.id);
    const roomIds = consultations.flatMap((c) => (c.roomId ? [c.roomId] : []));
    const [connections, closes, deliveries] = await Promise.all([this.#facts.connectionsOfMany(ids), this.#facts.sessionEndsOfMany(ids), this.#deliveries(roomIds)]);
    return new Map(consultations.map((c) => [c.id, {
      connections: connections.get(c.id) ?? [],
      closes: closes.get(c.id)?.closes ?? [],
      roomEnds: closes.get(c.id)?.roomEnds ?? [],
      deliveries: (c.roomId && deliveries.get(c.roomId)) || [],
    }]));
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
