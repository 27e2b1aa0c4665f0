/**
 * What 100ms reported about a consultation's peers and sessions. Every write is a merge that
 * gives the same row whatever order the webhooks arrive in: a join never erases a leave, a
 * leave fills in a join it overtook (leave events carry `joined_at` too).
 */
import { eq, sql } from "drizzle-orm";
import { groupBy, mergeBy } from "../collections.js";
import { anyOf, insertRows } from "../db/batch-sql.js";
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

export interface SessionFact {
  sessionId: string;
  consultationId: string;
  startedAt?: Date | null;
  stoppedAt?: Date | null;
  roomEndedAt?: Date | null;
}

export class PeerFactsRepo {
  constructor(private readonly db: Db) {}

  recordPeer(fact: PeerFact): Promise<void> {
    return this.recordPeers([fact]);
  }

  /**
   * One statement for many facts. Facts about the same peer are merged first, the way the
   * row merge would have merged them one by one (the earlier value of a column wins).
   */
  async recordPeers(facts: readonly PeerFact[]): Promise<void> {
    if (facts.length === 0) return;
    const values = mergeBy(facts, (f) => f.peerId, (first, later) => ({
      ...first,
      sessionId: first.sessionId ?? later.sessionId,
      joinedAt: first.joinedAt ?? later.joinedAt,
      leftAt: first.leftAt ?? later.leftAt ?? null,
      leftReason: first.leftReason ?? later.leftReason ?? null,
    })).map((fact) => ({
      ...fact,
      leftAt: fact.leftAt ?? null,
      leftReason: fact.leftReason ?? null,
      flagged: fact.side === null,
      source: fact.source ?? "webhook",
    }));
    const keys = ["peerId", "consultationId", "sessionId", "userId", "role", "side", "joinedAt", "leftAt", "leftReason", "flagged", "source"] as const;
    await this.db.execute(sql`${insertRows(peers, keys, values)}
      on conflict (peer_id) do update set
        session_id = coalesce(${peers.sessionId}, excluded.session_id),
        joined_at = coalesce(${peers.joinedAt}, excluded.joined_at),
        left_at = coalesce(${peers.leftAt}, excluded.left_at),
        left_reason = coalesce(${peers.leftReason}, excluded.left_reason),
        updated_at = now()`);
  }

  /** A role change moves the peer to the side its new role and user say (or to none). */
  async changeRole(peerId: string, role: string, side: Side | null): Promise<void> {
    await this.db.update(peers).set({ role, side, flagged: side === null, updatedAt: new Date() }).where(eq(peers.peerId, peerId));
  }

  async recordSessions(facts: readonly SessionFact[]): Promise<void> {
    if (facts.length === 0) return;
    const values = mergeBy(
      facts.map((f) => ({ ...f, startedAt: f.startedAt ?? null, stoppedAt: f.stoppedAt ?? null, roomEndedAt: f.roomEndedAt ?? null })),
      (f) => f.sessionId,
      (first, later) => ({
        ...first,
        startedAt: first.startedAt ?? later.startedAt,
        stoppedAt: first.stoppedAt ?? later.stoppedAt,
        roomEndedAt: first.roomEndedAt ?? later.roomEndedAt,
      }),
    );
    await this.db.execute(sql`${insertRows(sessions, ["sessionId", "consultationId", "startedAt", "stoppedAt", "roomEndedAt"], values)}
      on conflict (session_id) do update set
        started_at = coalesce(${sessions.startedAt}, excluded.started_at),
        stopped_at = coalesce(${sessions.stoppedAt}, excluded.stopped_at),
        room_ended_at = coalesce(${sessions.roomEndedAt}, excluded.room_ended_at)`);
  }

  async connectionsOfMany(consultationIds: readonly string[]): Promise<Map<string, Connection[]>> {
    const rows = await this.db
      .select({ consultationId: peers.consultationId, peerId: peers.peerId, side: peers.side, joinedAt: peers.joinedAt, leftAt: peers.leftAt, userId: peers.userId })
      .from(peers)
      .where(anyOf(peers.consultationId, consultationIds));
    return groupBy(rows, (r) => r.consultationId, ({ consultationId: _, ...connection }) => connection);
  }

  /** Session stops and room ends, per consultation: moments after which nobody of that session was in the room. */
  async closesOfMany(consultationIds: readonly string[]): Promise<Map<string, Date[]>> {
    const rows = await this.db
      .select({ consultationId: sessions.consultationId, stoppedAt: sessions.stoppedAt, roomEndedAt: sessions.roomEndedAt })
      .from(sessions)
      .where(anyOf(sessions.consultationId, consultationIds));
    const closes = groupBy(rows, (r) => r.consultationId, (r) => [r.stoppedAt, r.roomEndedAt].filter((d): d is Date => d !== null));
    return new Map([...closes].map(([id, dates]) => [id, dates.flat()]));
  }
}

export type Connection = ConnectionFact & { userId: string | null };
