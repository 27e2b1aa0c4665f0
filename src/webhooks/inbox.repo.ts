/** The webhook inbox: raw events keyed by envelope id, stored before they are acknowledged. */
import { and, asc, eq, isNull, max, sql } from "drizzle-orm";
import { anyOf, arrayLiteral, insertRows, rowsOf } from "../db/batch-sql.js";
import type { Db } from "../db/client.js";
import { hmsWebhookEvents as inbox } from "../db/schema.js";
import type { Envelope } from "./envelope.js";

/** Attempts after which an event that keeps failing is a dead letter, left for an operator. */
export const MAX_APPLY_ATTEMPTS = 10;

/** What an operator watches: how long the oldest acknowledged event has waited, and the dead letters. */
export interface InboxHealth {
  /** Seconds since the oldest unprocessed event (dead letters aside) was received; 0 when none. */
  oldestUnappliedSeconds: number;
  deadLetters: number;
}

export type InboxOutcome = "applied" | "ignored" | "unknown_room" | "invalid_data" | "failed";
export type InboxRow = typeof inbox.$inferSelect;
/** What storing a delivery found: see `storeMany`. */
export type StoreOutcome = "first" | "stored" | "processed";

export class InboxRepo {
  constructor(private readonly db: Db) {}

  /**
   * Stores many deliveries in one statement (one parameter, whatever the count) and says, per
   * id, what the inbox held: `first` (stored now), `stored` (stored before, not applied yet)
   * or `processed` (stored and applied before: a redelivery that changes nothing). The same
   * statement reads the earlier rows, so a redelivery costs no second query. An id stored by a
   * transaction that commits while this one runs is absent; the claim settles it (an id is
   * applied once however often it is queued). Envelopes are storable JSON (parseEnvelope).
   */
  async storeMany(envelopes: readonly Envelope[]): Promise<Map<string, StoreOutcome>> {
    if (envelopes.length === 0) return new Map();
    const records = envelopes.map((envelope) => ({
      id: envelope.id,
      type: envelope.type,
      roomId: typeof envelope.data.room_id === "string" ? envelope.data.room_id.slice(0, 200) : null,
      sentAt: new Date(envelope.timestamp),
      payload: envelope,
    }));
    const ids = arrayLiteral(records.map((r) => r.id));
    // The outer SELECT's snapshot predates the INSERT: it sees only the rows stored before.
    // Earlier rows are looked up one id at a time (a subquery per id, by the primary key):
    // this statement runs on the pool, not in the webhook path's planned-each-run transactions,
    // and `id = any($ids)` over the table settled on a generic plan made while the inbox was
    // empty, a scan of every delivery ever stored, on every acknowledgement.
    const rows = await this.db.execute(sql`with stored as (
        ${insertRows(inbox, ["id", "type", "roomId", "sentAt", "payload"], records)} on conflict (id) do nothing returning id
      )
      select id, 'first' as outcome from stored
      union all
      select id, outcome from (
        select asked.id, (select case when ${inbox.processedAt} is null then 'stored' else 'processed' end from ${inbox} where ${inbox.id} = asked.id) as outcome
        from unnest(${ids}::text[]) as asked(id)
      ) earlier where outcome is not null`);
    return new Map(rowsOf<{ id: string; outcome: StoreOutcome }>(rows).map((r) => [r.id, r.outcome]));
  }

  /** When the newest delivery (of one room, when given) was received; null when none was. */
  async lastReceivedAt(roomId?: string): Promise<Date | null> {
    const [row] = await this.db
      .select({ at: max(inbox.receivedAt) })
      .from(inbox)
      .where(roomId === undefined ? undefined : eq(inbox.roomId, roomId));
    return row?.at ?? null;
  }

  /**
   * Marks events processed with their outcomes, in one statement; returns the ids this call
   * marked. An id already processed (by another instance, or a retry that raced this one)
   * is left alone and absent from the result, so its facts are not applied twice.
   */
  async claim(items: ReadonlyArray<{ id: string; outcome: InboxOutcome }>): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const rows = await this.db
      .update(inbox)
      .set({
        processedAt: new Date(),
        outcome: sql`v.outcome`,
        attempts: sql`${inbox.attempts} + 1`,
      })
      .from(sql`unnest(${arrayLiteral(items.map((i) => i.id))}::text[], ${arrayLiteral(items.map((i) => i.outcome))}::text[]) as v(id, outcome)`)
      .where(and(sql`${inbox.id} = v.id`, isNull(inbox.processedAt)))
      .returning({ id: inbox.id });
    return new Set(rows.map((r) => r.id));
  }

  async markFailed(ids: readonly string[], options: { counted?: boolean } = {}): Promise<void> {
    if (ids.length === 0) return;
    const attempts = options.counted === false ? sql`${inbox.attempts}` : sql`${inbox.attempts} + 1`;
    // Only rows not applied: a COMMIT whose answer was lost (a reset) may well have applied them.
    await this.db.update(inbox).set({ attempts, outcome: "failed" }).where(and(anyOf(inbox.id, ids), isNull(inbox.processedAt)));
  }

  /** Oldest unprocessed first, skipping rows that keep failing (dead letters). */
  unprocessed(limit: number, maxAttempts = MAX_APPLY_ATTEMPTS): Promise<InboxRow[]> {
    return this.db
      .select()
      .from(inbox)
      .where(and(isNull(inbox.processedAt), sql`${inbox.attempts} < ${maxAttempts}`))
      .orderBy(asc(inbox.receivedAt))
      .limit(limit);
  }

  /** The age of the oldest unapplied event and the number of dead letters, in one statement. */
  async health(): Promise<InboxHealth> {
    const [row] = rowsOf<{ oldest: number | null; dead: number }>(
      await this.db.execute(sql`select
          extract(epoch from now() - min(${inbox.receivedAt}) filter (where ${inbox.attempts} < ${MAX_APPLY_ATTEMPTS}))::float8 as oldest,
          (count(*) filter (where ${inbox.attempts} >= ${MAX_APPLY_ATTEMPTS}))::int as dead
        from ${inbox} where ${inbox.processedAt} is null`),
    );
    return { oldestUnappliedSeconds: Math.max(0, Number(row?.oldest ?? 0)), deadLetters: Number(row?.dead ?? 0) };
  }

  /** Gives the dead letters their attempts back, so the next backlog pass applies them again; how many. */
  async retryDeadLetters(): Promise<number> {
    const rows = await this.db
      .update(inbox)
      .set({ attempts: 0 })
      .where(and(isNull(inbox.processedAt), sql`${inbox.attempts} >= ${MAX_APPLY_ATTEMPTS}`))
      .returning({ id: inbox.id });
    return rows.length;
  }
}
