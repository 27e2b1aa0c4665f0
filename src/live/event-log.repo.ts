/**
 * The consultation event log: appended in the same transaction as the change it records,
 * read by `Consultation.events` and by subscriptions (replay, then live).
 *
 * Appends take one transaction-scoped advisory lock, so event ids become visible in id
 * order: a reader that has seen id N has seen every id below N. That is what lets a
 * subscriber resume "after N" with no gap. NOTIFY is only a wake-up; the log is the truth.
 */
import { and, asc, eq, gt, type SQL, sql } from "drizzle-orm";
import { anyOf, insertRows } from "../db/batch-sql.js";
import { groupBy } from "../collections.js";
import type { Db } from "../db/client.js";
import { consultationEvents as events, videoConsultations as vc } from "../db/schema.js";

export const EVENTS_CHANNEL = "consultation_events";
const EVENT_LOG_LOCK = 7_301_942_119;

export type EventRow = typeof events.$inferSelect;
export type NewEvent = Omit<typeof events.$inferInsert, "id" | "createdAt">;

/** A log row with the consultation's two sides, so it can be routed without another query. */
export interface RoutedEvent extends EventRow {
  doctorId: string;
  patientId: string;
}

/** Which consultations' events a reader wants. */
export type EventScope =
  | { consultationId: string }
  | { doctorId: string }
  | { patientId: string }
  | { all: true };

/** Everything an event carries; id and created_at come from their defaults. */
const EVENT_KEYS = [
  "consultationId", "type", "occurredAt", "status", "previousStatus", "side", "peerId", "joinedAt", "prescriptionId", "dedupeKey",
] as const satisfies ReadonlyArray<keyof NewEvent>;

const routedColumns = { event: events, doctorId: vc.doctorId, patientId: vc.patientId };

export class EventLogRepo {
  constructor(private readonly db: Db) {}

  /**
   * Appends what is not in the log yet (by `dedupeKey`) and wakes listeners. Must run inside
   * the transaction that makes the change.
   */
  async append(newEvents: readonly NewEvent[]): Promise<void> {
    if (newEvents.length === 0) return;
    // One round trip for both: NOTIFY is delivered at commit whatever its place in the
    // transaction, and a wake-up for rows that turned out to be duplicates costs a reader
    // one empty query. Fewer round trips under the lock = more webhooks per second.
    await this.db.execute(sql`select pg_advisory_xact_lock(${EVENT_LOG_LOCK}), pg_notify(${EVENTS_CHANNEL}, ${newEvents[0]!.consultationId})`);
    await this.db.execute(sql`${insertRows(events, EVENT_KEYS, newEvents)} on conflict do nothing`);
  }

  /** The dedupe keys already logged, per consultation. */
  async keysOfMany(consultationIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const rows = await this.db
      .select({ consultationId: events.consultationId, key: events.dedupeKey })
      .from(events)
      .where(anyOf(events.consultationId, consultationIds));
    return new Map([...groupBy(rows, (r) => r.consultationId, (r) => r.key)].map(([id, keys]) => [id, new Set(keys)]));
  }

  /** Events after `afterId` in log order, within `scope`. */
  async after(scope: EventScope, afterId: number, limit: number): Promise<RoutedEvent[]> {
    const rows = await this.db
      .select(routedColumns)
      .from(events)
      .innerJoin(vc, eq(vc.id, events.consultationId))
      .where(and(gt(events.id, afterId), scopeCondition(scope)))
      .orderBy(asc(events.id))
      .limit(limit);
    return rows.map(({ event, doctorId, patientId }) => ({ ...event, doctorId, patientId }));
  }

  /**
   * What a replay after `afterId` would send, counted up to `limit` + 1 rows (so the query
   * stays bounded however far back `afterId` is): how many events, and how many of those were
   * logged before `loggedBefore`.
   */
  async backlog(scope: EventScope, afterId: number, limit: number, loggedBefore: Date): Promise<{ events: number; older: number }> {
    const window = this.db
      .select({ createdAt: events.createdAt })
      .from(events)
      .innerJoin(vc, eq(vc.id, events.consultationId))
      .where(and(gt(events.id, afterId), scopeCondition(scope)))
      .orderBy(asc(events.id))
      .limit(limit + 1)
      .as("backlog");
    const [row] = await this.db
      .select({
        events: sql<number>`count(*)::int`,
        older: sql<number>`(count(*) filter (where ${window.createdAt} < ${loggedBefore.toISOString()}::timestamptz))::int`,
      })
      .from(window);
    return { events: Number(row?.events ?? 0), older: Number(row?.older ?? 0) };
  }

  /** One consultation's events after `afterId`, oldest first. */
  page(consultationId: string, afterId: number, limit: number): Promise<EventRow[]> {
    return this.db
      .select()
      .from(events)
      .where(and(eq(events.consultationId, consultationId), gt(events.id, afterId)))
      .orderBy(asc(events.id))
      .limit(limit);
  }

  async latestId(): Promise<number> {
    const [row] = await this.db.select({ max: sql<number | null>`max(${events.id})` }).from(events);
    return Number(row?.max ?? 0);
  }
}

function scopeCondition(scope: EventScope): SQL | undefined {
  if ("consultationId" in scope) return eq(events.consultationId, scope.consultationId);
  if ("doctorId" in scope) return eq(vc.doctorId, scope.doctorId);
  if ("patientId" in scope) return eq(vc.patientId, scope.patientId);
  return undefined;
}
