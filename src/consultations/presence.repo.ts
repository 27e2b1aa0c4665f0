/**
 * Presence in the database, in two tables: what 100ms reported about a consultation's peers
 * and sessions (`PeerFactsRepo`), and the projection derived from those facts on every
 * recompute (`LiveStateRepo`, `consultation_live`, read by GraphQL).
 *
 * What 100ms reported about a consultation's peers and sessions, and what the API inferred
 * where reports are missing. Every write is a merge that gives the same row whatever order
 * the facts arrive in: a join never erases a leave, a leave fills in a join it overtook
 * (leave events carry `joined_at` too), a reported time replaces an inferred one and an
 * inferred time never replaces a reported one (nor an earlier inference).
 */
import { eq, sql } from "drizzle-orm";
import { groupBy, mergeBy } from "../kit/collections.js";
import { anyOf, anyOfPlaceholder, arrayLiteral, insertRows, setExcluded } from "../db/batch-sql.js";
import { builtOnce } from "../db/built-once.js";
import type { Db } from "../db/client.js";
import { consultationLive as live, hmsPeerConnections as peers, hmsSessions as sessions, hmsWebhookEvents as inbox } from "../db/schema.js";
import type { ConnectionFact, Side, Timeline } from "./presence.js";
import type { Reconnects } from "./reconnects.js";
import type { Departure, RoomEnd } from "./departures.js";
import type { Waiting } from "./waiting.js";

export interface PeerFact {
  peerId: string;
  consultationId: string;
  sessionId: string | null;
  userId: string | null;
  role: string | null;
  side: Side | null;
  joinedAt: Date | null;
  /** `joinedAt` is the API's inference, not a time 100ms reported. */
  joinedInferred?: boolean;
  leftAt?: Date | null;
  /** `leftAt` is the API's inference (e.g. the peer was missing from 100ms's active peers). */
  leftInferred?: boolean;
  leftReason?: string | null;
  source?: "webhook" | "reconcile";
}

export interface SessionFact {
  sessionId: string;
  consultationId: string;
  startedAt?: Date | null;
  stoppedAt?: Date | null;
  roomEndedAt?: Date | null;
  /** With `roomEndedAt`: the room end's reason, and the side of the peer that ended it. */
  roomEndReason?: string | null;
  roomEndedBy?: Side | null;
}

/** A consultation's session closes (every moment after which nobody of that session was in) and, among them, its room ends. */
export interface SessionEnds {
  closes: Date[];
  roomEnds: RoomEnd[];
}

export class PeerFactsRepo {
  constructor(private readonly db: Db) {}

  recordPeer(fact: PeerFact): Promise<void> {
    return this.recordPeers([fact]);
  }

  /**
   * One statement for many facts. Facts about the same peer are merged first, the way the
   * row merge would have merged them one by one.
   */
  async recordPeers(facts: readonly PeerFact[]): Promise<void> {
    if (facts.length === 0) return;
    const values = mergeBy(facts.map(normalised), (f) => f.peerId, (first, later) => ({
      ...first,
      sessionId: first.sessionId ?? later.sessionId,
      ...mergeTime(first, later, "joinedAt", "joinedInferred"),
      ...mergeTime(first, later, "leftAt", "leftInferred"),
      leftReason: replaces(first.leftAt, first.leftInferred, later.leftAt, later.leftInferred) && later.leftAt !== null ? later.leftReason : (first.leftReason ?? later.leftReason),
    })).map((fact) => ({ ...fact, flagged: fact.side === null, source: fact.source ?? "webhook" }));
    const keys = ["peerId", "consultationId", "sessionId", "userId", "role", "side", "joinedAt", "joinedInferred", "leftAt", "leftInferred", "leftReason", "flagged", "source"] as const;
    const replaceJoin = sql`(${peers.joinedAt} is null or (${peers.joinedInferred} and excluded.joined_at is not null and not excluded.joined_inferred))`;
    const replaceLeave = sql`(${peers.leftAt} is null or (${peers.leftInferred} and excluded.left_at is not null and not excluded.left_inferred))`;
    await this.db.execute(sql`${insertRows(peers, keys, values)}
      on conflict (peer_id) do update set
        session_id = coalesce(${peers.sessionId}, excluded.session_id),
        joined_at = case when ${replaceJoin} then excluded.joined_at else ${peers.joinedAt} end,
        joined_inferred = case when ${replaceJoin} then excluded.joined_inferred else ${peers.joinedInferred} end,
        left_at = case when ${replaceLeave} then excluded.left_at else ${peers.leftAt} end,
        left_inferred = case when ${replaceLeave} then excluded.left_inferred else ${peers.leftInferred} end,
        left_reason = case when ${replaceLeave} and excluded.left_at is not null then excluded.left_reason else coalesce(${peers.leftReason}, excluded.left_reason) end,
        updated_at = now()`);
  }

  /** A role change moves the peer to the side its new role and user say (or to none). */
  async changeRole(peerId: string, role: string, side: Side | null): Promise<void> {
    await this.db.update(peers).set({ role, side, flagged: side === null, updatedAt: new Date() }).where(eq(peers.peerId, peerId));
  }

  async recordSessions(facts: readonly SessionFact[]): Promise<void> {
    if (facts.length === 0) return;
    const values = mergeBy(
      facts.map((f) => ({
        ...f, startedAt: f.startedAt ?? null, stoppedAt: f.stoppedAt ?? null, roomEndedAt: f.roomEndedAt ?? null,
        roomEndReason: f.roomEndReason ?? null, roomEndedBy: f.roomEndedBy ?? null,
      })),
      (f) => f.sessionId,
      (first, later) => ({
        ...first,
        startedAt: first.startedAt ?? later.startedAt,
        stoppedAt: first.stoppedAt ?? later.stoppedAt,
        ...(first.roomEndedAt ? {} : { roomEndedAt: later.roomEndedAt, roomEndReason: later.roomEndReason, roomEndedBy: later.roomEndedBy }),
      }),
    );
    // The first room end reported keeps its reason and side with it.
    const keepEnd = sql`${sessions.roomEndedAt} is not null`;
    await this.db.execute(sql`${insertRows(sessions, ["sessionId", "consultationId", "startedAt", "stoppedAt", "roomEndedAt", "roomEndReason", "roomEndedBy"], values)}
      on conflict (session_id) do update set
        started_at = coalesce(${sessions.startedAt}, excluded.started_at),
        stopped_at = coalesce(${sessions.stoppedAt}, excluded.stopped_at),
        room_end_reason = case when ${keepEnd} then ${sessions.roomEndReason} else excluded.room_end_reason end,
        room_ended_by = case when ${keepEnd} then ${sessions.roomEndedBy} else excluded.room_ended_by end,
        room_ended_at = coalesce(${sessions.roomEndedAt}, excluded.room_ended_at)`);
  }

  async connectionsOfMany(consultationIds: readonly string[]): Promise<Map<string, Connection[]>> {
    const rows = await connectionsStatement(this.db).execute({ ids: arrayLiteral(consultationIds) });
    return groupBy(rows, (r) => r.consultationId, ({ consultationId: _, ...connection }) => connection);
  }

  /** Session stops and room ends, per consultation (moments after which nobody of that session was in the room), the room ends also apart. */
  async sessionEndsOfMany(consultationIds: readonly string[]): Promise<Map<string, SessionEnds>> {
    const rows = await sessionEndsStatement(this.db).execute({ ids: arrayLiteral(consultationIds) });
    const grouped = groupBy(rows, (r) => r.consultationId, (r) => r);
    return new Map([...grouped].map(([id, list]) => [id, {
      closes: list.flatMap((r) => [r.stoppedAt, r.roomEndedAt].filter((d): d is Date => d !== null)),
      roomEnds: list.flatMap((r) => (r.roomEndedAt ? [{ at: r.roomEndedAt, reason: r.roomEndReason, side: r.roomEndedBy }] : [])),
    }]));
  }

  /**
   * When 100ms last delivered a webhook for each room (rooms never heard from are absent). One
   * `max` per room, which the (room, received_at) index answers from its last entry: the cost
   * stays the same however many deliveries the room has had (a grouped `max` over all the
   * room's rows grew with each webhook).
   */
  async lastDeliveriesOfMany(roomIds: readonly string[]): Promise<Map<string, Date>> {
    if (roomIds.length === 0) return new Map();
    const rows = await lastDeliveriesStatement(this.db).execute({ roomIds: arrayLiteral(roomIds) });
    return new Map(rows.flatMap((r) => (r.at ? [[r.roomId, r.at] as const] : [])));
  }
}

/** A connection as stored: the fact, with who (`userId`), its session and whether its join was inferred. */
export type Connection = ConnectionFact & { userId: string | null; sessionId: string | null; joinedInferred: boolean };

type NormalisedFact = Omit<PeerFact, "leftAt" | "leftReason" | "joinedInferred" | "leftInferred"> & {
  leftAt: Date | null;
  leftReason: string | null;
  joinedInferred: boolean;
  leftInferred: boolean;
};

function normalised(f: PeerFact): NormalisedFact {
  return { ...f, leftAt: f.leftAt ?? null, leftReason: f.leftReason ?? null, joinedInferred: f.joinedInferred ?? false, leftInferred: f.leftInferred ?? false };
}

/** Whether a later value of a time replaces the current one: it fills a gap, or a report replaces an inference. */
function replaces(current: Date | null, currentInferred: boolean, next: Date | null, nextInferred: boolean): boolean {
  return current === null || (currentInferred && next !== null && !nextInferred);
}

function mergeTime<T extends "joinedAt" | "leftAt", F extends "joinedInferred" | "leftInferred">(
  first: NormalisedFact,
  later: NormalisedFact,
  time: T,
  inferred: F,
) {
  const take = replaces(first[time], first[inferred], later[time], later[inferred]);
  const from = take ? later : first;
  return { [time]: from[time], [inferred]: from[inferred] } as Pick<NormalisedFact, T | F>;
}

/** The presence projection (`consultation_live`): written on every recompute, read by GraphQL. */
export type LiveRow = typeof live.$inferSelect;

/** What one recompute derived for a consultation. */
export interface LiveProjection {
  consultationId: string;
  timeline: Timeline;
  reconnects: Reconnects;
  departures?: Record<Side, Departure | null>;
  waiting?: Waiting | null;
}

export class LiveStateRepo {
  constructor(private readonly db: Db) {}

  /** One upsert for many consultations. */
  async saveMany(items: ReadonlyArray<LiveProjection>): Promise<void> {
    if (items.length === 0) return;
    const updatedAt = new Date();
    const values = items.map(({ consultationId, timeline, reconnects, departures, waiting }) => {
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
        doctorLeftCause: departures?.doctor?.cause ?? null, doctorLeftDetail: departures?.doctor?.detail ?? null,
        patientLeftCause: departures?.patient?.cause ?? null, patientLeftDetail: departures?.patient?.detail ?? null,
        waitingSide: waiting?.side ?? null, waitingSince: waiting?.since ?? null,
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

// The apply's reads, built once (db/built-once.ts): every batch of webhooks runs each of them.
const connectionsStatement = builtOnce("peer_connections_of", (db) => db
  .select({ consultationId: peers.consultationId, peerId: peers.peerId, side: peers.side, userId: peers.userId, sessionId: peers.sessionId, joinedAt: peers.joinedAt,
    joinedInferred: peers.joinedInferred, leftAt: peers.leftAt, leftInferred: peers.leftInferred, leftReason: peers.leftReason })
  .from(peers).where(anyOfPlaceholder(peers.consultationId, "ids")));
const sessionEndsStatement = builtOnce("session_ends_of", (db) => db
  .select({ consultationId: sessions.consultationId, stoppedAt: sessions.stoppedAt, roomEndedAt: sessions.roomEndedAt, roomEndReason: sessions.roomEndReason, roomEndedBy: sessions.roomEndedBy })
  .from(sessions).where(anyOfPlaceholder(sessions.consultationId, "ids")));
const lastDeliveriesStatement = builtOnce("last_deliveries_of", (db) => db
  .select({
    roomId: sql<string>`r.room_id`,
    at: sql<Date | null>`(select max(${inbox.receivedAt}) from ${inbox} where ${inbox.roomId} = r.room_id)`.mapWith(inbox.receivedAt),
  })
  .from(sql`unnest(${sql.placeholder("roomIds")}::text[]) as r(room_id)`));
