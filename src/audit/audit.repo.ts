/**
 * The audit table: insert (append-only) and the admin's newest-first pages. A record of several
 * consultations (one request's reads, in `consultation_ids`) is listed as one event per
 * consultation, at its place in the arrays (`ordinal`, 1-based); a record of one has ordinal 0.
 */
import { and, desc, eq, getTableColumns, gte, lt, lte, ne, or, type SQL, sql } from "drizzle-orm";
import type { ExactTime } from "../kit/cursor.js";
import { arrayLiteral, insertRows } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { exactTime } from "../db/exact-time.js";
import { auditEvents as audit } from "../db/schema.js";
import type { AuditEntry } from "./audit.model.js";

export type AuditRow = typeof audit.$inferSelect;

/** One event of a page: a record, or one consultation of a record of several. */
export interface AuditPageRow extends Omit<AuditRow, "consultationIds" | "patientIds"> {
  /** `occurredAt` to the microsecond (the Date has milliseconds). */
  occurredAtExact: ExactTime;
  /** Its place in its record (1-based), or 0 when the record is of one consultation (or none). */
  ordinal: number;
}

/** An event's place in the newest-first order: (occurredAt, id, ordinal), each descending. */
export interface AuditPosition {
  occurredAt: ExactTime;
  id: number;
  /** Absent (or 0) for a record of one, and in cursors issued before: after the whole record. */
  ordinal?: number;
}

export interface AuditQuery {
  consultationId?: string | undefined;
  actorId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** The page after this event, newest first. */
  before?: AuditPosition | undefined;
  limit: number;
}

const AUDIT_KEYS = [
  "occurredAt", "actorId", "actorRole", "action", "consultationId", "patientId", "consultationIds", "patientIds", "outcome", "repeats", "requestId", "clientIp", "targetId",
] as const satisfies ReadonlyArray<keyof AuditEntry>;

export class AuditRepo {
  constructor(private readonly db: Db) {}

  /** In order, in one statement of one text (a request's reads are one record, whatever their number). */
  async insert(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length > 0) await this.db.execute(insertRows(audit, AUDIT_KEYS, entries));
  }

  /**
   * One statement: the first `limit + 1` records that hold a wanted event (each holds at least
   * one, the cursor's own record perhaps none left), spread into events, then the first `limit`.
   */
  page(query: AuditQuery): Promise<AuditPageRow[]> {
    const { consultationIds, patientIds, ...columns } = getTableColumns(audit);
    const records = this.db
      .select({ ...columns, consultationIds, patientIds, occurredAtExact: exactTime(audit.occurredAt).as("occurred_at_exact") })
      .from(audit)
      .where(and(...recordConditions(query)))
      .orderBy(desc(audit.occurredAt), desc(audit.id))
      .limit(query.limit + 1)
      .as("r");
    const ordinal = sql<number>`coalesce(s.ordinal, 0)`.mapWith(Number);
    const consultationId = sql<string | null>`coalesce(s.consultation_id, ${records.consultationId})`;
    return this.db
      .select({
        id: records.id, occurredAt: records.occurredAt, actorId: records.actorId, actorRole: records.actorRole, action: records.action,
        consultationId, patientId: sql<string | null>`coalesce(s.patient_id, ${records.patientId})`,
        outcome: records.outcome, repeats: records.repeats, requestId: records.requestId, clientIp: records.clientIp, occurredAtExact: records.occurredAtExact, ordinal,
        targetId: records.targetId,
      })
      .from(records)
      .leftJoinLateral(sql`unnest(${records.consultationIds}, ${records.patientIds}) with ordinality as s (consultation_id, patient_id, ordinal)`, sql`true`)
      .where(
        and(
          query.consultationId ? sql`${consultationId} = ${query.consultationId}::uuid` : undefined,
          // Of the cursor's own record, only the events after the cursor's.
          query.before
            ? or(ne(records.occurredAt, sql`${query.before.occurredAt}::timestamptz`), ne(records.id, query.before.id), lt(ordinal, query.before.ordinal ?? 0))
            : undefined,
        ),
      )
      .orderBy(desc(records.occurredAt), desc(records.id), desc(ordinal))
      .limit(query.limit);
  }
}

/** Which records hold a wanted event: the filter, and at or after the cursor's record. */
function recordConditions(query: AuditQuery): Array<SQL | undefined> {
  return [
    query.consultationId
      ? or(eq(audit.consultationId, query.consultationId), sql`${audit.consultationIds} @> ${arrayLiteral([query.consultationId])}::uuid[]`)
      : undefined,
    query.actorId ? eq(audit.actorId, query.actorId) : undefined,
    query.from ? gte(audit.occurredAt, query.from) : undefined,
    query.to ? lt(audit.occurredAt, query.to) : undefined,
    query.before ? atOrBelow(query.before) : undefined,
  ];
}

/** The cursor's record and those after it in the newest-first order, compared at full precision. */
function atOrBelow(position: AuditPosition): SQL | undefined {
  const at = sql`${position.occurredAt}::timestamptz`;
  return or(lt(audit.occurredAt, at), and(eq(audit.occurredAt, at), lte(audit.id, position.id)));
}
