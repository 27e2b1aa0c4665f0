/**
 * Which rows of the event log a consultation's timeline (`Consultation.events`) shows: its
 * events after a position, oldest first, without retracted events and their retractions (what
 * the facts now support; streams carry both). One definition for the two reads of it: alone
 * (`EventLogRepo.page`) and with the consultation itself, when a query asks for both
 * (`ConsultationRepo.findRowVisible`: one statement and one round trip instead of two).
 */
import { and, asc, eq, getTableColumns, gt, isNull, ne, sql, type SQL, type SQLWrapper } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import { packedList } from "../db/batch-sql.js";
import { consultationEvents as events } from "../db/schema.js";

/** A row of the event log, as read. */
export type TimelineEventRow = typeof events.$inferSelect;

const RETRACTION = "retraction";

/** The log row that retracts an event, if any (joined to leave retracted events out). */
export const retraction = alias(events, RETRACTION);

/** The log's rows on the timeline of `consultationId` after `afterId` (joined with `retraction`). */
export function onTimeline(consultationId: SQLWrapper | string, afterId: SQLWrapper | number): SQL {
  return and(eq(events.consultationId, consultationId), gt(events.id, afterId), ne(events.type, "EVENT_RETRACTED"), isNull(retraction.id))!;
}

export const timelineOrder = asc(events.id);

/**
 * The first `limit` rows of a consultation's timeline after `afterId`, as one selected value
 * (a correlated subquery: `consultationId` is usually the outer row's column).
 */
export function timelineRows(consultationId: SQLWrapper, afterId: SQLWrapper, limit: SQLWrapper): SQL<TimelineEventRow[]> {
  return packedList<TimelineEventRow>(
    getTableColumns(events),
    (record) => sql`(select json_agg(page.e order by page.id) from (
      select ${events.id} as id, ${record} as e
      from ${events} left join ${events} ${sql.identifier(RETRACTION)} on ${eq(retraction.retractsId, events.id)}
      where ${onTimeline(consultationId, afterId)} order by ${timelineOrder} limit ${limit}) page)`,
  );
}
