/** The audit table: insert (append-only) and the admin's newest-first pages. */
import { and, desc, eq, getTableColumns, gte, lt, or, type SQL, sql } from "drizzle-orm";
import type { ExactTime } from "../cursor.js";
import { insertRows } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { exactTime } from "../db/exact-time.js";
import { auditEvents as audit } from "../db/schema.js";
import type { AuditEntry } from "./audit.model.js";

export type AuditRow = typeof audit.$inferSelect;

/** A row of a page, with its place in the order at full precision. */
export interface AuditPageRow extends AuditRow {
  /** `occurredAt` to the microsecond (the Date has milliseconds). */
  occurredAtExact: ExactTime;
}

/** A row's place in the newest-first order. */
export interface AuditPosition {
  occurredAt: ExactTime;
  id: number;
}

export interface AuditQuery {
  consultationId?: string | undefined;
  actorId?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
  /** The page after this row, newest first. */
  before?: AuditPosition | undefined;
  limit: number;
}

const AUDIT_KEYS = [
  "occurredAt", "actorId", "actorRole", "action", "consultationId", "patientId", "outcome", "requestId", "clientIp",
] as const satisfies ReadonlyArray<keyof AuditEntry>;

export class AuditRepo {
  constructor(private readonly db: Db) {}

  /** In order, in one statement of one text (reads of a 50-row page write 50 records). */
  async insert(entries: readonly AuditEntry[]): Promise<void> {
    if (entries.length > 0) await this.db.execute(insertRows(audit, AUDIT_KEYS, entries));
  }

  page(query: AuditQuery): Promise<AuditPageRow[]> {
    const conditions: Array<SQL | undefined> = [
      query.consultationId ? eq(audit.consultationId, query.consultationId) : undefined,
      query.actorId ? eq(audit.actorId, query.actorId) : undefined,
      query.from ? gte(audit.occurredAt, query.from) : undefined,
      query.to ? lt(audit.occurredAt, query.to) : undefined,
      query.before ? below(query.before) : undefined,
    ];
    return this.db
      .select({ ...getTableColumns(audit), occurredAtExact: exactTime(audit.occurredAt) })
      .from(audit)
      .where(and(...conditions))
      .orderBy(desc(audit.occurredAt), desc(audit.id))
      .limit(query.limit);
  }
}

/** Rows after `position` in the newest-first order, compared at full precision. */
function below(position: AuditPosition): SQL | undefined {
  const at = sql`${position.occurredAt}::timestamptz`;
  return or(lt(audit.occurredAt, at), and(eq(audit.occurredAt, at), lt(audit.id, position.id)));
}
