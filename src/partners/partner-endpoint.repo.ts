/** The partner endpoints' rows: what admins manage. */
import { asc, eq, sql } from "drizzle-orm";
import type { Db } from "../db/client.js";
import { consultationEvents, partnerDeliveries, partnerEndpoints as endpoints } from "../db/schema.js";

export type EndpointRow = typeof endpoints.$inferSelect;
export type NewEndpoint = Pick<EndpointRow, "id" | "url" | "description" | "eventTypes" | "secret">;
export type EndpointChanges = Partial<Pick<EndpointRow, "url" | "description" | "eventTypes" | "enabled" | "disabledReason" | "disabledAt" | "secret" | "previousSecret" | "previousSecretUntil">>;

/** Wakes every instance's dispatcher: the endpoints changed (sent at commit). */
export const ENDPOINTS_CHANNEL = "partner_endpoints";

export class PartnerEndpointRepo {
  constructor(private readonly db: Db) {}

  /** A new endpoint is sent the events logged from now on: its cursor starts at the log's end. */
  async insert(endpoint: NewEndpoint): Promise<EndpointRow> {
    const [row] = await this.db
      .insert(endpoints)
      .values({ ...endpoint, afterEventId: sql`(select coalesce(max(${consultationEvents.id}), 0) from ${consultationEvents})` })
      .returning();
    return row!;
  }

  async find(id: string): Promise<EndpointRow | null> {
    const [row] = await this.db.select().from(endpoints).where(eq(endpoints.id, id));
    return row ?? null;
  }

  list(): Promise<EndpointRow[]> {
    return this.db.select().from(endpoints).orderBy(asc(endpoints.createdAt), asc(endpoints.id));
  }

  /** Locks the row for the rest of the transaction (null when there is none). */
  async lock(id: string): Promise<EndpointRow | null> {
    const [row] = await this.db.select().from(endpoints).where(eq(endpoints.id, id)).for("update");
    return row ?? null;
  }

  async update(id: string, changes: EndpointChanges): Promise<EndpointRow | null> {
    const [row] = await this.db
      .update(endpoints)
      .set({ ...changes, updatedAt: new Date() })
      .where(eq(endpoints.id, id))
      .returning();
    return row ?? null;
  }

  /** Deletes the endpoint with its deliveries and their attempts. */
  async delete(id: string): Promise<boolean> {
    const rows = await this.db.delete(endpoints).where(eq(endpoints.id, id)).returning({ id: endpoints.id });
    return rows.length > 0;
  }

  /** Pending deliveries wait no longer (an endpoint enabled again, or back after failures). */
  async dueNow(id: string): Promise<void> {
    await this.db
      .update(partnerDeliveries)
      .set({ nextAttemptAt: sql`now()` })
      .where(sql`${partnerDeliveries.endpointId} = ${id} and ${partnerDeliveries.status} = 'pending' and ${partnerDeliveries.nextAttemptAt} > now()`);
  }

  async notify(): Promise<void> {
    await this.db.execute(sql`select pg_notify(${ENDPOINTS_CHANNEL}, '')`);
  }
}
