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
import { rowsOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { consultationEvents, partnerDeliveries as deliveries, partnerDeliveryAttempts as attempts, partnerEndpoints as endpoints } from "../db/schema.js";
import type { PartnerEventSource } from "./partner-events.js";

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

/** The endpoint as a claim finds it: where to send, and its sealed secrets (the previous one during a rotation's overlap). */
export interface ClaimedEndpoint {
  id: string;
  url: string;
  secret: string;
  previousSecret: string | null;
}

export interface ClaimedBatch {
  endpoint: ClaimedEndpoint | null;
  items: Claimed[];
}

/** The endpoint with, when one was claimed, a delivery and its event, as the driver returns it (bigints may come as text). */
interface ClaimedRow {
  url: string;
  secret: string;
  previous_secret: string | null;
  id: string | number | null;
  attempts: number;
  event_id: string | number;
  consultation_id: string | null;
  type: PartnerEventSource["type"] | null;
  occurred_at: number;
  status: PartnerEventSource["status"] | null;
  previous_status: PartnerEventSource["previousStatus"];
  side: PartnerEventSource["side"];
  prescription_id: string | null;
  retracts_id: string | number | null;
  leave_cause: string | null;
  delay_minutes: number | null;
  quality_score: number | null;
  created_at: number;
}

export class PartnerDeliveryRepo {
  constructor(private readonly db: Db) {}

  /**
   * Takes the endpoint's row lock for the rest of the transaction: whatever moves its heads
   * (planning, recording, an admin's redelivery or replay) holds it, one at a time, each of
   * its statements then reading what the one before committed.
   */
  async lockEndpoint(endpointId: string): Promise<void> {
    await this.db.execute(sql`select 1 from ${endpoints} where id = ${endpointId} for update`);
  }

  /**
   * Deliveries for the next events of the endpoint's types after its cursor, and the cursor
   * moved past them, in one statement under the endpoint's row lock. Each consultation's first
   * new delivery is its head when none of its deliveries is pending. True when more may wait;
   * null when the endpoint is disabled or gone.
   */
  async plan(endpointId: string): Promise<boolean | null> {
    const rows = await this.db.execute(sql`with ep as materialized (
        select id, after_event_id, event_types, coalesce(replay_through_event_id, 0) as replay_through
        from ${endpoints} where id = ${endpointId} and enabled for update
      ), scan as (
        select c.id, c.consultation_id from ${consultationEvents} c, ep
        where c.id > ep.after_event_id and c.type = any(ep.event_types)
        order by c.id limit ${PLAN_BATCH}
      ), reach as (
        select case when (select count(*) from scan) = ${PLAN_BATCH} then (select max(id) from scan)
          else (select coalesce(max(id), 0) from ${consultationEvents}) end as id
      ), planned as (
        insert into ${deliveries} (endpoint_id, event_id, consultation_id, origin, head)
        select ep.id, s.id, s.consultation_id, case when s.id <= ep.replay_through then 'replay' else 'event' end,
          s.first and not exists (select 1 from ${deliveries} p where p.endpoint_id = ep.id and p.consultation_id = s.consultation_id and p.status = 'pending')
        from (select scan.*, row_number() over (partition by consultation_id order by id) = 1 as first from scan) s, ep
        returning 1
      )
      update ${endpoints} set after_event_id = greatest(after_event_id, (select id from reach)),
        replay_through_event_id = case when replay_through_event_id <= (select id from reach) then null else replay_through_event_id end
      where id = (select id from ep)
      returning (select count(*) from planned)::int as planned`);
    const [row] = rowsOf<{ planned: number }>(rows);
    return row ? Number(row.planned) === PLAN_BATCH : null;
  }

  /**
   * Leases the due heads (a consultation's events go one at a time, in log order), oldest first, as many as `concurrency` less those in
   * flight on any instance; with their events and the endpoint's URL and secrets (sealed), in
   * one statement under the endpoint's row lock. `endpoint` is null when it is disabled or gone.
   */
  async claim(endpointId: string, concurrency: number, leaseMs: number, token: string): Promise<ClaimedBatch> {
    const ms = (column: string) => sql.raw(`floor(extract(epoch from e.${column}) * 1000)::float8`);
    const rows = rowsOf<ClaimedRow>(
      await this.db.execute(sql`with ep as materialized (
          select id, url, secret, case when previous_secret_until > now() then previous_secret end as previous_secret
          from ${endpoints} where id = ${endpointId} and enabled for update
        ), due as (
          select d.id from ${deliveries} d
          where exists (select from ep) and d.endpoint_id = ${endpointId} and d.status = 'pending' and d.head and d.next_attempt_at <= now()
            and (d.lease_until is null or d.lease_until <= now())
          order by d.event_id, d.id
          limit greatest(0, ${concurrency} - (select count(*) from ${deliveries} f where f.endpoint_id = ${endpointId} and f.status = 'pending' and f.lease_until > now()))
          for update skip locked
        ), leased as (
          update ${deliveries} d set lease_until = now() + make_interval(secs => ${leaseMs / 1000}), lease_token = ${token},
            attempts = d.attempts + 1, first_attempt_at = coalesce(d.first_attempt_at, now()), last_attempt_at = now()
          from due where d.id = due.id
          returning d.id, d.event_id, d.attempts
        )
        select ep.url, ep.secret, ep.previous_secret, c.* from ep left join (
          select l.id, l.attempts, e.id as event_id, e.consultation_id, e.type, ${ms("occurred_at")} as occurred_at, e.status, e.previous_status, e.side,
            e.prescription_id, e.retracts_id, e.leave_cause, e.delay_minutes, e.quality_score, ${ms("created_at")} as created_at
          from leased l join ${consultationEvents} e on e.id = l.event_id
        ) c on true
        order by c.event_id, c.id`),
    );
    const [first] = rows;
    if (!first) return { endpoint: null, items: [] };
    const items = rows.filter((r) => r.id !== null).map((r) => ({
      id: Number(r.id),
      attempt: Number(r.attempts),
      event: {
        id: Number(r.event_id), consultationId: r.consultation_id!, type: r.type!, occurredAt: new Date(Number(r.occurred_at)), status: r.status!, previousStatus: r.previous_status,
        side: r.side, prescriptionId: r.prescription_id, retractsId: r.retracts_id === null ? null : Number(r.retracts_id),
        leaveCause: r.leave_cause, delayMinutes: r.delay_minutes, qualityScore: r.quality_score, createdAt: new Date(Number(r.created_at)),
      },
    }));
    return { endpoint: { id: endpointId, url: first.url, secret: first.secret, previousSecret: first.previous_secret }, items };
  }

  /** Gives back deliveries leased under `token` that will not be sent now (their attempt uncounted). */
  async release(token: string): Promise<void> {
    await this.db.execute(sql`update ${deliveries} set lease_until = null, lease_token = null, attempts = attempts - 1 where lease_token = ${token} and status = 'pending'`);
  }

  /**
   * When the next delivery heading its consultation's queue falls due (a lease's end
   * included: an instance that died mid-send); null when none is pending.
   */
  async nextDue(endpointId: string): Promise<Date | null> {
    const rows = await this.db.execute(sql`select (extract(epoch from min(greatest(next_attempt_at, coalesce(lease_until, next_attempt_at)))) * 1000)::float8 as at
      from ${deliveries} where endpoint_id = ${endpointId} and status = 'pending' and head`);
    const at = rowsOf<{ at: number | null }>(rows)[0]?.at;
    return at === null || at === undefined ? null : new Date(Number(at));
  }

  /**
   * Writes the attempt and, while the lease is still `token`'s, its outcome, in one statement:
   * the delivery's state (delivered or given up: the next pending delivery of its consultation
   * becomes the head), and the endpoint's: failing since the first failed attempt after its
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
          next_attempt_at = now() + make_interval(secs => ${delaySeconds}), head = ${kind}::text in ('retry', 'gone')
        where id = ${claimed.id} and lease_token = ${token} and status = 'pending'
        returning first_attempt_at, last_attempt_at, consultation_id, status
      ), promoted as (
        update ${deliveries} set head = true where id = (
          select p.id from ${deliveries} p, delivery d
          where d.status <> 'pending' and p.endpoint_id = ${endpointId} and p.consultation_id = d.consultation_id and p.status = 'pending' and p.id <> ${claimed.id}
          order by p.event_id, p.id limit 1)
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
      from decision x where e.id = ${endpointId} and (${kind}::text <> 'delivered' or e.failing_since is not null)
      returning x.disable, e.disabled_reason`);
    const [row] = rowsOf<{ disable: boolean; disabled_reason: "gone" | "failing" | null }>(rows);
    return row?.disable ? row.disabled_reason : null;
  }
}
