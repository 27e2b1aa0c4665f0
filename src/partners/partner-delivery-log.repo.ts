/**
 * The delivery log as admins page it (newest first, with each delivery's attempts), and the
 * admin's levers: send one delivery again, replay an endpoint from an event.
 */
import { and, desc, eq, lt, sql } from "drizzle-orm";
import { arrayLiteral, rowsOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { consultationEvents as events, partnerDeliveries as deliveries, partnerDeliveryAttempts as attempts, partnerEndpoints as endpoints } from "../db/schema.js";

const logColumns = {
  id: deliveries.id,
  endpointId: deliveries.endpointId,
  eventId: deliveries.eventId,
  eventType: events.type,
  consultationId: deliveries.consultationId,
  status: deliveries.status,
  origin: deliveries.origin,
  attempts: deliveries.attempts,
  nextAttemptAt: deliveries.nextAttemptAt,
  lastStatusCode: deliveries.lastStatusCode,
  lastErrorClass: deliveries.lastErrorClass,
  deliveredAt: deliveries.deliveredAt,
  createdAt: deliveries.createdAt,
};

export type DeliveryLogRow = { [K in keyof typeof logColumns]: (typeof logColumns)[K]["_"]["notNull"] extends true ? (typeof logColumns)[K]["_"]["data"] : (typeof logColumns)[K]["_"]["data"] | null };
export type AttemptRow = typeof attempts.$inferSelect;

export class PartnerDeliveryLogRepo {
  constructor(private readonly db: Db) {}

  /** An endpoint's deliveries, newest first, below `beforeId` when given. */
  page(endpointId: string, beforeId: number | null, limit: number): Promise<DeliveryLogRow[]> {
    return this.db
      .select(logColumns)
      .from(deliveries)
      .innerJoin(events, eq(events.id, deliveries.eventId))
      .where(and(eq(deliveries.endpointId, endpointId), beforeId === null ? undefined : lt(deliveries.id, beforeId)))
      .orderBy(desc(deliveries.id))
      .limit(limit);
  }

  async find(id: number): Promise<DeliveryLogRow | null> {
    const [row] = await this.db.select(logColumns).from(deliveries).innerJoin(events, eq(events.id, deliveries.eventId)).where(eq(deliveries.id, id));
    return row ?? null;
  }

  /** The attempts of these deliveries, oldest first. */
  attemptsOf(deliveryIds: readonly number[]): Promise<AttemptRow[]> {
    if (deliveryIds.length === 0) return Promise.resolve([]);
    return this.db
      .select()
      .from(attempts)
      .where(sql`${attempts.deliveryId} = any(${arrayLiteral(deliveryIds.map(String))}::bigint[])`)
      .orderBy(attempts.deliveryId, attempts.attempt, attempts.id);
  }

  /**
   * A new delivery of the same event to the same endpoint, due now: at once when none of its
   * consultation's is pending, else after the one being sent. Under the endpoint's row lock.
   */
  async redeliver(of: DeliveryLogRow): Promise<number> {
    const rows = await this.db.execute(sql`insert into ${deliveries} (endpoint_id, event_id, consultation_id, origin, head)
      select ${of.endpointId}, ${of.eventId}, ${of.consultationId}, 'redelivery',
        not exists (select 1 from ${deliveries} p where p.endpoint_id = ${of.endpointId} and p.consultation_id = ${of.consultationId} and p.status = 'pending')
      returning id`);
    return Number(rowsOf<{ id: string | number }>(rows)[0]!.id);
  }

  /** The first event logged at or after `time` (null: none yet, so a replay from it has nothing to send). */
  async firstEventSince(time: Date): Promise<number | null> {
    const [row] = await this.db.select({ id: events.id }).from(events).where(sql`${events.createdAt} >= ${time.toISOString()}::timestamptz`).orderBy(events.id).limit(1);
    return row?.id ?? null;
  }

  /**
   * Sends the endpoint every event from `fromEventId` on again, in order: its cursor moves back
   * before it (never forward), and its pending deliveries of those events are cancelled (they
   * are planned again, in order; a head cancelled takes every later one of its consultation
   * with it, so the heads left stay right). Must run in a transaction holding the endpoint's
   * row lock.
   */
  async replay(endpointId: string, fromEventId: number): Promise<void> {
    await this.db.execute(sql`update ${deliveries} set status = 'cancelled', lease_until = null, lease_token = null
      where endpoint_id = ${endpointId} and status = 'pending' and event_id >= ${fromEventId}`);
    await this.db.execute(sql`update ${endpoints} set
        replay_through_event_id = greatest(coalesce(replay_through_event_id, 0), after_event_id),
        after_event_id = least(after_event_id, ${fromEventId - 1}), updated_at = now()
      where id = ${endpointId}`);
  }

  /** Per endpoint: pending deliveries, and events of its types not planned yet (counted up to 10,000). */
  async backlog(): Promise<Array<{ endpointId: string; pending: number; unplanned: number }>> {
    const rows = await this.db.execute(sql`select e.id as endpoint_id,
        (select count(*) from ${deliveries} d where d.endpoint_id = e.id and d.status = 'pending')::int as pending,
        (select count(*) from (select 1 from ${events} c where c.id > e.after_event_id and c.type = any(e.event_types) limit 10000) u)::int as unplanned
      from ${endpoints} e where e.enabled`);
    return rowsOf<{ endpoint_id: string; pending: number; unplanned: number }>(rows).map((r) => ({ endpointId: r.endpoint_id, pending: Number(r.pending), unplanned: Number(r.unplanned) }));
  }
}
