/**
 * What 100ms reported about a consultation's peers and sessions. Every write is a merge that
 * gives the same row whatever order the webhooks arrive in: a join never erases a leave, a
 * leave fills in a join it overtook (leave events carry `joined_at` too).
 */
import { eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { hmsPeerConnections as peers, hmsSessions as sessions } from "../db/schema.js";
import type { ConnectionFact, Side } from "./presence.js";

export interface PeerFact {
  peerId: string;
  consultationId: string;
  sessionId: string | null;
  userId: string | null;
  role: string | null;
  side: Side | null;
  joinedAt: Date | null;
  leftAt?: Date | null;
  leftReason?: string | null;
  source?: "webhook" | "reconcile";
}

export class PeerFactsRepo {
  constructor(private readonly db: Db) {}

  async recordPeer(fact: PeerFact): Promise<void> {
    const values = {
      ...fact,
      leftAt: fact.leftAt ?? null,
      leftReason: fact.leftReason ?? null,
      flagged: fact.side === null,
      source: fact.source ?? "webhook",
    };
    await this.db
      .insert(peers)
      .values(values)
      .onConflictDoUpdate({
        target: peers.peerId,
        set: {
          sessionId: sql`coalesce(${peers.sessionId}, excluded.session_id)`,
          joinedAt: sql`coalesce(${peers.joinedAt}, excluded.joined_at)`,
          leftAt: sql`coalesce(${peers.leftAt}, excluded.left_at)`,
          leftReason: sql`coalesce(${peers.leftReason}, excluded.left_reason)`,
          updatedAt: new Date(),
        },
      });
  }

  /** A role change moves the peer to the side its new role and user say (or to none). */
  async changeRole(peerId: string, role: string, side: Side | null): Promise<void> {
    await this.db.update(peers).set({ role, side, flagged: side === null, updatedAt: new Date() }).where(eq(peers.peerId, peerId));
  }

  async recordSession(input: {
    sessionId: string;
    consultationId: string;
    startedAt?: Date | null;
    stoppedAt?: Date | null;
    roomEndedAt?: Date | null;
  }): Promise<void> {
    const values = { startedAt: null, stoppedAt: null, roomEndedAt: null, ...input };
    await this.db
      .insert(sessions)
      .values(values)
      .onConflictDoUpdate({
        target: sessions.sessionId,
        set: {
          startedAt: sql`coalesce(${sessions.startedAt}, excluded.started_at)`,
          stoppedAt: sql`coalesce(${sessions.stoppedAt}, excluded.stopped_at)`,
          roomEndedAt: sql`coalesce(${sessions.roomEndedAt}, excluded.room_ended_at)`,
        },
      });
  }

  async connectionsOf(consultationId: string): Promise<Array<ConnectionFact & { userId: string | null }>> {
    return this.db
      .select({ peerId: peers.peerId, side: peers.side, joinedAt: peers.joinedAt, leftAt: peers.leftAt, userId: peers.userId })
      .from(peers)
      .where(eq(peers.consultationId, consultationId));
  }

  /** Session stops and room ends: moments after which nobody of that session was in the room. */
  async closesOf(consultationId: string): Promise<Date[]> {
    const rows = await this.db
      .select({ stoppedAt: sessions.stoppedAt, roomEndedAt: sessions.roomEndedAt })
      .from(sessions)
      .where(eq(sessions.consultationId, consultationId));
    return rows.flatMap((r) => [r.stoppedAt, r.roomEndedAt].filter((d): d is Date => d !== null));
  }
}
