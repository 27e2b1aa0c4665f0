/**
 * Partner endpoints as admins manage them: create, list, update, enable or disable, delete,
 * rotate the secret. Admins only (FORBIDDEN otherwise); every change is audited in its own
 * transaction (`partnerEndpoint.*`, the endpoint's id as the record's target) and wakes every
 * instance's dispatcher. A secret is returned once, at creation or rotation, and stored sealed.
 */
import { randomUUID } from "node:crypto";
import { mayManagePartnerEndpoints } from "../access/access-policy.js";
import { entry, type Actor } from "../audit/audit.model.js";
import { AuditRepo } from "../audit/audit.repo.js";
import type { Viewer } from "../auth/viewer.js";
import type { PartnerWebhookConfig } from "../config/partner-webhooks.env.js";
import type { Db } from "../db/client.js";
import { AppError, notFound } from "../kit/errors.js";
import { parseId } from "../kit/ids.js";
import { AddressPolicy } from "./address-policy.js";
import { checkedDescription, checkedEventTypes, checkedUrl } from "./partner-endpoint.validation.js";
import { PartnerEndpointRepo, type EndpointChanges, type EndpointRow } from "./partner-endpoint.repo.js";
import { systemResolve, type Resolve } from "./partner-http.js";
import { SecretBox } from "./secret-box.js";
import { newSecret } from "./signing.js";

export interface EndpointInput {
  url?: string | null;
  description?: string | null;
  eventTypes?: readonly string[] | null;
}

export interface PartnerServiceOptions {
  db: Db;
  /** Absent: partner webhooks are off (creating or rotating answers INVALID_STATE). */
  settings?: PartnerWebhookConfig | undefined;
  resolve?: Resolve;
}

export interface EndpointWithSecret {
  endpoint: EndpointRow;
  /** In clear, this once. */
  secret: string;
}

/** Admins only: FORBIDDEN otherwise. */
export function requirePartnerAdmin(viewer: Viewer): void {
  if (!mayManagePartnerEndpoints(viewer)) throw new AppError("FORBIDDEN", "Only admins can manage partner endpoints");
}

/** Runs an endpoint change with its audit record and the dispatchers' wake-up, in one transaction. */
export function auditedChange<T>(db: Db, actor: Actor, action: string, targetId: string, work: (tx: Db) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    const result = await work(tx);
    await new AuditRepo(tx).insert([{ ...entry(actor, action, {}), targetId }]);
    await new PartnerEndpointRepo(tx).notify();
    return result;
  });
}

export class PartnerEndpoints {
  readonly #repo: PartnerEndpointRepo;
  readonly #policy: AddressPolicy;
  readonly #box: SecretBox | null;

  constructor(private readonly options: PartnerServiceOptions) {
    this.#repo = new PartnerEndpointRepo(options.db);
    this.#policy = new AddressPolicy(options.settings ?? { allowHttp: false, allowHosts: [] });
    const key = options.settings?.secretKey;
    this.#box = key ? new SecretBox(key) : null;
  }

  async list(viewer: Viewer): Promise<EndpointRow[]> {
    requirePartnerAdmin(viewer);
    return this.#repo.list();
  }

  /** Null when there is no such endpoint. */
  async find(viewer: Viewer, id: string): Promise<EndpointRow | null> {
    requirePartnerAdmin(viewer);
    return this.#repo.find(parseId(id, "id"));
  }

  async create(viewer: Viewer, actor: Actor, input: EndpointInput): Promise<EndpointWithSecret> {
    requirePartnerAdmin(viewer);
    const box = this.#sealer();
    const url = await checkedUrl(this.#policy, this.#resolve, input.url ?? "", "input.url");
    const eventTypes = checkedEventTypes(input.eventTypes ?? [], "input.eventTypes");
    const description = checkedDescription(input.description ?? "", "input.description");
    const id = randomUUID();
    const secret = newSecret();
    const endpoint = await auditedChange(this.options.db, actor, "partnerEndpoint.create", id, (tx) =>
      new PartnerEndpointRepo(tx).insert({ id, url, description, eventTypes, secret: box.seal(secret, id) }),
    );
    return { endpoint, secret };
  }

  async update(viewer: Viewer, actor: Actor, id: string, input: EndpointInput): Promise<EndpointRow> {
    requirePartnerAdmin(viewer);
    const endpointId = parseId(id, "id");
    const changes: EndpointChanges = {};
    if (input.url != null) changes.url = await checkedUrl(this.#policy, this.#resolve, input.url, "input.url");
    if (input.eventTypes != null) changes.eventTypes = checkedEventTypes(input.eventTypes, "input.eventTypes");
    if (input.description != null) changes.description = checkedDescription(input.description, "input.description");
    return this.#change(actor, "partnerEndpoint.update", endpointId, (repo) => repo.update(endpointId, changes));
  }

  /** Enabling again resumes where delivery stopped (nothing logged meanwhile is skipped), with waiting retries due now. */
  async setEnabled(viewer: Viewer, actor: Actor, id: string, enabled: boolean): Promise<EndpointRow> {
    requirePartnerAdmin(viewer);
    const endpointId = parseId(id, "id");
    const action = enabled ? "partnerEndpoint.enable" : "partnerEndpoint.disable";
    return this.#change(actor, action, endpointId, async (repo) => {
      const row = await repo.update(endpointId, enabled ? { enabled, disabledReason: null, disabledAt: null } : { enabled, disabledReason: "admin", disabledAt: new Date() });
      if (row && enabled) await repo.dueNow(endpointId);
      return row;
    });
  }

  /** Deletes the endpoint, its deliveries and their log. */
  async delete(viewer: Viewer, actor: Actor, id: string): Promise<string> {
    requirePartnerAdmin(viewer);
    const endpointId = parseId(id, "id");
    await this.#change(actor, "partnerEndpoint.delete", endpointId, async (repo) => ((await repo.delete(endpointId)) ? { id: endpointId } : null));
    return endpointId;
  }

  /**
   * A new secret, returned this once. The old one keeps signing beside it (two signatures in
   * `webhook-signature`) for PARTNER_WEBHOOKS_ROTATION_OVERLAP_HOURS; a rotation during an
   * overlap ends the previous overlap.
   */
  async rotateSecret(viewer: Viewer, actor: Actor, id: string): Promise<EndpointWithSecret> {
    requirePartnerAdmin(viewer);
    const endpointId = parseId(id, "id");
    const box = this.#sealer();
    const overlapMs = (this.options.settings?.rotationOverlapHours ?? 0) * 3_600_000;
    const secret = newSecret();
    const endpoint = await this.#change(actor, "partnerEndpoint.rotateSecret", endpointId, async (repo) => {
      const current = await repo.lock(endpointId);
      if (!current) return null;
      return repo.update(endpointId, {
        secret: box.seal(secret, endpointId),
        previousSecret: overlapMs > 0 ? current.secret : null,
        previousSecretUntil: overlapMs > 0 ? new Date(Date.now() + overlapMs) : null,
      });
    });
    return { endpoint, secret };
  }

  get #resolve(): Resolve {
    return this.options.resolve ?? systemResolve;
  }

  #sealer(): SecretBox {
    if (!this.#box) throw new AppError("INVALID_STATE", "Partner webhooks are off on this server (no PARTNER_WEBHOOKS_SECRET_KEY)");
    return this.#box;
  }

  /** A change of one endpoint (NOT_FOUND when `work` finds none; nothing is then recorded). */
  async #change<T>(actor: Actor, action: string, endpointId: string, work: (repo: PartnerEndpointRepo) => Promise<T | null>): Promise<T> {
    return auditedChange(this.options.db, actor, action, endpointId, async (tx) => {
      const result = await work(new PartnerEndpointRepo(tx));
      if (result === null) throw notFound("Partner endpoint");
      return result;
    });
  }
}
