/**
 * The dispatcher's statements. Per endpoint, under its row lock (`lockEnabled`, SKIP LOCKED:
 * one instance at a time plans and claims for an endpoint, the others move on): `plan` turns
 * the log after the endpoint's cursor into deliveries and moves the cursor, in one statement
 * (one snapshot; log ids become visible in order, so nothing behind the cursor can appear
 * later); `claim` leases the due deliveries that head their consultation's queue. The lease
 * (`lease_until`, `lease_token`) outlives the claiming transaction: it is what keeps another
 * instance from sending the same delivery, and when an instance dies mid-send it expires and
 * the delivery is sent again (at least once). `record` writes an attempt's outcome only while
 * the lease is still the recorder's.
 */
import { sql } from "drizzle-orm";
import { arrayLiteral, rowsOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { consultationEvents, partnerDeliveries as deliveries, partnerDeliveryAttempts as attempts, partnerEndpoints as endpoints } from "../db/schema.js";
import type { PartnerEventSource } from "./partner-events.js";
import type { EndpointRow } from "./partner-endpoint.repo.js";

export interface Claimed {
  id: number;
  /** This attempt's number, from 1. */
  attempt: number;
  event: PartnerEventSource & { createdAt: Date };
}

export type Outcome =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number }
  | { kind: "gone" }
  | { kind: "given_up" };

export interface AttemptRecord {
  startedAt: Date;
  durationMs: number;
  statusCode: number | null;
  errorClass: string | null;
}

const PLAN_BATCH = 500;

export class PartnerDeliveryRepo {
  constructor(private readonly db: Db) {}

  /** The endpoint, locked for the transaction, when it is enabled and no other instance holds it. */
  async lockEnabled(id: string): Promise<EndpointRow | null> {
    const [row] = await this.db.select().from(endpoints).where(sql`${endpoints.id} = ${id} and ${endpoints.enabled}`).for("update", { skipLocked: true });
    return row ?? null;
  }

  /** Deliveries for the next events of the endpoint's types after its cursor; true when more may wait. */
  async plan(endpoint: EndpointRow): Promise<boolean> {
    const types = arrayLiteral(endpoint.eventTypes);
    const rows = await this.db.execute(sql`with scan as (
        select id, consultation_id from ${consultationEvents}
        where id > ${endpoint.afterEventId} and type = any(${types}::text[])
        order by id limit ${PLAN_BATCH}
      ), reach as (
        select case when (select count(*) from scan) = ${PLAN_BATCH} then (select max(id) from scan)
          else (select coalesce(max(id), 0) from ${consultationEvents}) end as id
      ), planned as (
        insert into ${deliveries} (endpoint_id, event_id, consultation_id, origin)
        select ${endpoint.id}, id, consultation_id, case when id <= ${endpoint.replayThroughEventId ?? 0} then 'replay' else 'event' end from scan
        returning 1
      )
      update ${endpoints} set after_event_id = greatest(after_event_id, (select id from reach)),
        replay_through_event_id = case when replay_through_event_id <= (select id from reach) then null else replay_through_event_id end
      where id = ${endpoint.id}
      returning (select count(*) from planned)::int as planned`);
    return Number(rowsOf<{ planned: number }>(rows)[0]?.planned ?? 0) === PLAN_BATCH;
  }

  /** Deliveries leased now (in flight on some instance). */
  async inFlight(endpointId: string): Promise<number> {
    const rows = await this.db.execute(
      sql`select count(*)::int as n from ${deliveries} where endpoint_id = ${endpointId} and status = 'pending' and lease_until > now()`,
    );
    return Number(rowsOf<{ n: number }>(rows)[0]?.n ?? 0);
  }

  /**
   * Leases up to `limit` due deliveries, each the oldest pending one of its consultation (so
   * a consultation's events go one at a time, in log order), oldest first.
   */
  async claim(endpointId: string, limit: number, leaseMs: number, token: string): Promise<Claimed[]> {
    if (limit <= 0) return [];
    const leased = rowsOf<{ id: string | number; event_id: string | number; attempts: number }>(
      await this.db.execute(sql`with due as (
          select d.id from ${deliveries} d
          where d.endpoint_id = ${endpointId} and d.status = 'pending' and d.next_attempt_at <= now()
            and (d.lease_until is null or d.lease_until <= now())
            and not exists (
              select 1 from ${deliveries} p
              where p.endpoint_id = d.endpoint_id and p.consultation_id = d.consultation_id and p.status = 'pending'
                and (p.event_id, p.id) < (d.event_id, d.id))
          order by d.event_id, d.id
          limit ${limit}
          for update skip locked
        )
        update ${deliveries} d set lease_until = now() + make_interval(secs => ${leaseMs / 1000}), lease_token = ${token},
          attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
        from due where d.id = due.id
        returning d.id, d.event_id, d.attempts`),
    );
    if (leased.length === 0) return [];
    const events = await this.db
      .select({
        id: consultationEvents.id, consultationId: consultationEvents.consultationId, type: consultationEvents.type, occurredAt: consultationEvents.occurredAt,
        status: consultationEvents.status, previousStatus: consultationEvents.previousStatus, side: consultationEvents.side,
        prescriptionId: consultationEvents.prescriptionId, retractsId: consultationEvents.retractsId, createdAt: consultationEvents.createdAt,
      })
      .from(consultationEvents)
      .where(sql`${consultationEvents.id} = any(${arrayLiteral(leased.map((l) => String(l.event_id)))}::bigint[])`);
    const byId = new Map(events.map((e) => [e.id, e]));
    return leased
      .map((l) => ({ id: Number(l.id), attempt: Number(l.attempts), event: byId.get(Number(l.event_id))! }))
      .sort((a, b) => a.event.id - b.event.id || a.id - b.id);
  }

  /**
   * When the next delivery heading its consultation's queue falls due (a lease's end
   * included: an instance that died mid-send); null when none is pending.
   */
  async nextDue(endpointId: string): Promise<Date | null> {
    const rows = await this.db.execute(sql`select (extract(epoch from min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at)))) * 1000)::float8 as at
      from (select distinct on (consultation_id) next_attempt_at, lease_until from ${deliveries}
        where endpoint_id = ${endpointId} and status = 'pending' order by consultation_id, event_id, id) heads`);
    const at = rowsOf<{ at: number | null }>(rows)[0]?.at;
    return at === null || at === undefined ? null : new Date(Number(at));
  }

  /**
   * Writes the attempt and, while the lease is still `token`'s, its outcome, in one statement:
   * the delivery's state, and the endpoint's: failing since the first failed attempt after its
   * last success; disabled on a 410, or when the delivery gave up and the endpoint has had no
   * success since that delivery's first attempt. A success after more than a minute of failures
   * makes the endpoint's waiting deliveries due now (it is back). Returns why the endpoint was
   * disabled by this attempt, if it was.
   */
  async record(endpointId: string, claimed: Claimed, token: string, attempt: AttemptRecord, outcome: Outcome): Promise<"gone" | "failing" | null> {
    const kind = outcome.kind;
    const delaySeconds = outcome.kind === "retry" ? outcome.delayMs / 1000 : 0;
    const rows = await this.db.execute(sql`with attempt as (
        insert into ${attempts} (delivery_id, attempt, started_at, duration_ms, status_code, error_class)
        values (${claimed.id}, ${claimed.attempt}, ${attempt.startedAt.toISOString()}::timestamptz, ${attempt.durationMs}, ${attempt.statusCode}, ${attempt.errorClass})
      ), delivery as (
        update ${deliveries} set lease_until = null, lease_token = null, last_status_code = ${attempt.statusCode}, last_error_class = ${attempt.errorClass},
          status = case ${kind}::text when 'delivered' then 'delivered' when 'given_up' then 'failed' else 'pending' end,
          delivered_at = case when ${kind}::text = 'delivered' then now() end,
          next_attempt_at = now() + make_interval(secs => ${delaySeconds})
        where id = ${claimed.id} and lease_token = ${token} and status = 'pending'
        returning first_attempt_at, last_attempt_at
      ), decision as (
        select e.failing_since, d.last_attempt_at,
          e.enabled and (${kind}::text = 'gone' or (${kind}::text = 'given_up' and coalesce(e.failing_since <= d.first_attempt_at, false))) as disable
        from delivery d, ${endpoints} e where e.id = ${endpointId}
      ), back as (
        update ${deliveries} set next_attempt_at = now()
        where endpoint_id = ${endpointId} and status = 'pending' and next_attempt_at > now() and ${kind}::text = 'delivered'
          and exists (select from decision where failing_since < now() - interval '1 minute')
      )
      update ${endpoints} e set
        failing_since = case when ${kind}::text = 'delivered' then null else coalesce(e.failing_since, x.last_attempt_at) end,
        enabled = e.enabled and not x.disable,
        disabled_reason = case when x.disable then (case when ${kind}::text = 'gone' then 'gone' else 'failing' end) else e.disabled_reason end,
        disabled_at = case when x.disable then now() else e.disabled_at end
      from decision x where e.id = ${endpointId}
      returning x.disable, e.disabled_reason`);
    const [row] = rowsOf<{ disable: boolean; disabled_reason: "gone" | "failing" | null }>(rows);
    return row?.disable ? row.disabled_reason : null;
  }
}
