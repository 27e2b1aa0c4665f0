/**
 * The delivery log and its levers, for admins: page an endpoint's deliveries (newest first,
 * with every attempt: status code, duration, error class; never a byte the partner sent),
 * send one delivery again, replay an endpoint from an event id or a time. Levers are audited
 * like endpoint changes.
 */
import type { Actor } from "../audit/audit.model.js";
import type { Viewer } from "../auth/viewer.js";
import { decodeEventId } from "../consultations/event-cursor.js";
import type { Db } from "../db/client.js";
import { badInput, notFound } from "../kit/errors.js";
import { parseId } from "../kit/ids.js";
import { checkPageSize } from "../kit/paging.js";
import { decodeDeliveryId } from "./partner-delivery.cursor.js";
import { PartnerDeliveryLogRepo, type AttemptRow, type DeliveryLogRow } from "./partner-delivery-log.repo.js";
import { PartnerEndpointRepo, type EndpointRow } from "./partner-endpoint.repo.js";
import { auditedChange, requirePartnerAdmin } from "./partner-endpoints.service.js";

export interface DeliveryWithAttempts extends DeliveryLogRow {
  attemptLog: AttemptRow[];
}

export interface ReplayFrom {
  eventId?: string | null;
  time?: Date | null;
}

export class PartnerDeliveries {
  readonly #log: PartnerDeliveryLogRepo;
  readonly #endpoints: PartnerEndpointRepo;

  constructor(
    private readonly db: Db,
    private readonly maxPageSize: number,
  ) {
    this.#log = new PartnerDeliveryLogRepo(db);
    this.#endpoints = new PartnerEndpointRepo(db);
  }

  async page(viewer: Viewer, endpointId: string, first: number, after: string | null): Promise<{ rows: DeliveryWithAttempts[]; hasNextPage: boolean }> {
    requirePartnerAdmin(viewer);
    const id = parseId(endpointId, "endpointId");
    const size = checkPageSize(first, this.maxPageSize);
    const before = after == null ? null : decodeDeliveryId(after, "after");
    if (!(await this.#endpoints.find(id))) throw notFound("Partner endpoint");
    const rows = await this.#log.page(id, before, size + 1);
    const page = rows.slice(0, size);
    return { rows: await this.#withAttempts(page), hasNextPage: rows.length > size };
  }

  /** A new delivery of the same event to the same endpoint, due now (sent once the endpoint is enabled). */
  async redeliver(viewer: Viewer, actor: Actor, deliveryId: string): Promise<DeliveryWithAttempts> {
    requirePartnerAdmin(viewer);
    const id = decodeDeliveryId(deliveryId, "id");
    const original = await this.#log.find(id);
    if (!original) throw notFound("Partner delivery");
    const created = await auditedChange(this.db, actor, "partnerDelivery.redeliver", original.endpointId, async (tx) => {
      await new PartnerEndpointRepo(tx).lock(original.endpointId);
      return new PartnerDeliveryLogRepo(tx).redeliver(original);
    });
    const row = await this.#log.find(created);
    return { ...row!, attemptLog: [] };
  }

  /**
   * Sends the endpoint every event of its types from `from` on again, in log order per
   * consultation (from an event id, that event included; from a time, the events logged at or
   * after it). Deliveries of those events still pending are replaced, not doubled.
   */
  async replay(viewer: Viewer, actor: Actor, endpointId: string, from: ReplayFrom): Promise<EndpointRow> {
    requirePartnerAdmin(viewer);
    const id = parseId(endpointId, "id");
    if ((from.eventId == null) === (from.time == null)) throw badInput("Give one of fromEventId and fromTime", "fromEventId");
    const fromEventId = from.eventId != null ? decodeEventId(from.eventId, "fromEventId") : await this.#log.firstEventSince(from.time!);
    return auditedChange(this.db, actor, "partnerEndpoint.replay", id, async (tx) => {
      const endpoints = new PartnerEndpointRepo(tx);
      if (!(await endpoints.lock(id))) throw notFound("Partner endpoint");
      if (fromEventId !== null) await new PartnerDeliveryLogRepo(tx).replay(id, fromEventId);
      return (await endpoints.find(id))!;
    });
  }

  async #withAttempts(rows: DeliveryLogRow[]): Promise<DeliveryWithAttempts[]> {
    const attempts = await this.#log.attemptsOf(rows.map((r) => r.id));
    return rows.map((row) => ({ ...row, attemptLog: attempts.filter((a) => a.deliveryId === row.id) }));
  }
}
