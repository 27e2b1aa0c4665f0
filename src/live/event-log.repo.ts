/**
 * The consultation event log: appended in the same transaction as the change it records,
 * read by `Consultation.events` and by subscriptions (replay, then live).
 *
 * Appends take one transaction-scoped advisory lock, so event ids become visible in id
 * order: a reader that has seen id N has seen every id below N. That is what lets a
 * subscriber resume "after N" with no gap. NOTIFY is only a wake-up; the log is the truth.
 */
import { and, asc, eq, getTableColumns, gt, type SQL, sql } from "drizzle-orm";
import { onTimeline, retraction, timelineOrder } from "../consultations/timeline-rows.js";
import { anyOfPlaceholder, arrayLiteral, insertRows, packed, packedList } from "../db/batch-sql.js";
import { listRowsOf } from "../consultations/list-rows.js";
import type { ConsultationListRow } from "../consultations/consultation.model.js";
import { builtOnce } from "../db/built-once.js";
import type { SelectedFields } from "drizzle-orm/pg-core";
import { groupBy } from "../kit/collections.js";
import { appendSpan } from "./event-tracing.js";
import type { Db } from "../db/client.js";
import { consultationEvents as events, videoConsultations as vc } from "../db/schema.js";

export const EVENTS_CHANNEL = "consultation_events";
const EVENT_LOG_LOCK = 7_301_942_119;

export type EventRow = typeof events.$inferSelect;
export type NewEvent = Omit<typeof events.$inferInsert, "id" | "createdAt">;

export type LoggedEvent = Pick<EventRow, "id" | "type" | "dedupeKey" | "retractsId" | "occurredAt" | "side" | "peerId" | "joinedAt" | "leftReason" | "leaveCause">;

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
  "consultationId", "type", "occurredAt", "status", "previousStatus", "side", "peerId", "joinedAt", "leftReason", "leaveCause", "leaveDetail", "delayMinutes", "qualityScore", "prescriptionId", "retractsId", "dedupeKey", "traceParent",
] as const satisfies ReadonlyArray<keyof NewEvent>;

/** A routed event as one packed value per row: replays and the hub read thousands of rows at a time. */
const ROUTED_COLUMNS = { ...getTableColumns(events), doctorId: vc.doctorId, patientId: vc.patientId };
const routedEvent = packed<RoutedEvent>(ROUTED_COLUMNS);

export class EventLogRepo {
  constructor(private readonly db: Db) {}

  /**
   * Appends what is not in the log yet (by `dedupeKey`) and wakes listeners. Must run inside
   * the transaction that makes the change.
   */
  append(newEvents: readonly NewEvent[]): Promise<void> {
    if (newEvents.length === 0) return Promise.resolve();
    return appendSpan(newEvents.length, EVENTS_CHANNEL, (traceParent) => this.#append(traceParent ? newEvents.map((e) => ({ ...e, traceParent })) : newEvents));
  }

  async #append(newEvents: readonly NewEvent[]): Promise<void> {
    // One statement: the lock and the wake-up gate the insert (an uncorrelated EXISTS is a
    // one-time filter, evaluated before the first row takes its id). NOTIFY is delivered at
    // commit whatever its place in the transaction, and a wake-up for rows that turned out to
    // be duplicates costs a reader one empty query. Fewer round trips under the lock = more
    // webhooks per second.
    const gate = sql`select pg_advisory_xact_lock(${EVENT_LOG_LOCK}), pg_notify(${EVENTS_CHANNEL}, ${newEvents[0]!.consultationId})`;
    await this.db.execute(sql`with gate as materialized (${gate}) ${insertRows(events, EVENT_KEYS, newEvents)} where exists (select from gate) on conflict do nothing`);
  }

  /** The dedupe keys already logged, per consultation. */
  async keysOfMany(consultationIds: readonly string[]): Promise<Map<string, Set<string>>> {
    const logged = await this.loggedOfMany(consultationIds);
    return new Map([...logged].map(([id, rows]) => [id, new Set(rows.map((r) => r.dedupeKey))]));
  }

  /** What is logged per consultation, as the live projection compares it with the facts. */
  async loggedOfMany(consultationIds: readonly string[]): Promise<Map<string, LoggedEvent[]>> {
    const rows = await loggedStatement(this.db).execute({ ids: arrayLiteral(consultationIds) });
    return groupBy(rows, (r) => r.consultationId, ({ consultationId: _, ...row }) => row);
  }

  /**
   * The events after `afterId` in log order and the list rows of their consultations (what
   * their fields resolve from), in one statement: the hub's read, one round trip per wake-up.
   */
  async afterWithRows(afterId: number, limit: number): Promise<{ events: RoutedEvent[]; rows: ConsultationListRow[] }> {
    const [read] = await EVENTS_WITH_ROWS(this.db).execute({ afterId, limit });
    return { events: read?.events ?? [], rows: read?.rows ?? [] };
  }

  /** Events after `afterId` in log order, within `scope`. */
  async after(scope: EventScope, afterId: number, limit: number): Promise<RoutedEvent[]> {
    const [kind, scopeId] = scopeKind(scope);
    const rows = await AFTER[kind](this.db).execute({ afterId, limit, scopeId });
    return rows.map((row) => row.event);
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

  /**
   * One consultation's timeline after `afterId`, oldest first: what the facts now support,
   * so without retracted events and their retractions (streams carry both).
   */
  async page(consultationId: string, afterId: number, limit: number): Promise<EventRow[]> {
    const rows = await this.db
      .select({ event: events })
      .from(events)
      .leftJoin(retraction, eq(retraction.retractsId, events.id))
      .where(onTimeline(consultationId, afterId))
      .orderBy(timelineOrder)
      .limit(limit);
    return rows.map((r) => r.event);
  }

  async latestId(): Promise<number> {
    const [row] = await this.db.select({ max: sql<number | null>`max(${events.id})` }).from(events);
    return Number(row?.max ?? 0);
  }
}

function scopeCondition(scope: EventScope): SQL | undefined {
  const [kind, id] = scopeKind(scope);
  return kind === "all" ? undefined : eq(SCOPE_COLUMNS[kind], id);
}

/** What the apply compares with the facts, built once (db/built-once.ts): every batch of webhooks reads it. */
const loggedStatement = builtOnce("logged_of", (db) => db
  .select({ consultationId: events.consultationId, id: events.id, type: events.type, dedupeKey: events.dedupeKey, retractsId: events.retractsId, occurredAt: events.occurredAt, side: events.side, peerId: events.peerId, joinedAt: events.joinedAt, leftReason: events.leftReason, leaveCause: events.leaveCause })
  .from(events)
  .where(anyOfPlaceholder(events.consultationId, "ids")));

/** `after` per kind of scope, built once (db/built-once.ts): the hub reads with it on every wake-up, each replay page too. */
/** The column each kind of scope selects by: one place for `scopeCondition` and the statements built once. */
const SCOPE_COLUMNS = { consultationId: events.consultationId, doctorId: vc.doctorId, patientId: vc.patientId };

const AFTER = {
  all: afterStatement("events_after", undefined),
  consultationId: afterStatement("events_after_of_consultation", eq(SCOPE_COLUMNS.consultationId, sql.placeholder("scopeId"))),
  doctorId: afterStatement("events_after_of_doctor", eq(SCOPE_COLUMNS.doctorId, sql.placeholder("scopeId"))),
  patientId: afterStatement("events_after_of_patient", eq(SCOPE_COLUMNS.patientId, sql.placeholder("scopeId"))),
};

function scopeKind(scope: EventScope): ["all", null] | [keyof typeof SCOPE_COLUMNS, string] {
  if ("consultationId" in scope) return ["consultationId", scope.consultationId];
  if ("doctorId" in scope) return ["doctorId", scope.doctorId];
  if ("patientId" in scope) return ["patientId", scope.patientId];
  return ["all", null];
}

function afterStatement(name: string, scope: SQL | undefined) {
  return builtOnce(name, (db) => db
    .select({ event: routedEvent })
    .from(events)
    .innerJoin(vc, eq(vc.id, events.consultationId))
    .where(and(gt(events.id, sql.placeholder("afterId")), scope))
    .orderBy(asc(events.id))
    .limit(sql.placeholder("limit")));
}

/** `afterWithRows`: the range once per use (the same text, one snapshot), the rows of its consultations beside it. */
const EVENTS_WITH_ROWS = builtOnce("events_with_rows_after", (db) => {
  const inRange = (fields: SelectedFields) =>
    db.select(fields).from(events).innerJoin(vc, eq(vc.id, events.consultationId))
      .where(gt(events.id, sql.placeholder("afterId"))).orderBy(asc(events.id)).limit(sql.placeholder("limit"));
  const list = (record: SQL) => sql`(select json_agg(x.e order by x.id) from (${inRange({ id: events.id, e: record.as("e") })}) x)`;
  return db
    .select({ events: packedList<RoutedEvent>(ROUTED_COLUMNS, list), rows: listRowsOf(db, inRange({ id: events.consultationId })) })
    .from(sql`(values (1)) as one (x)`);
});
