/** The partner webhooks' use cases over one database, as services.ts hands them to resolvers. */
import type { PartnerWebhookConfig } from "../config/partner-webhooks.env.js";
import type { Db } from "../db/client.js";
import { PartnerDeliveries } from "./partner-deliveries.service.js";
import { PartnerEndpoints } from "./partner-endpoints.service.js";
import type { Resolve } from "./partner-http.js";

export function partnerServices(db: Db, options: { settings?: PartnerWebhookConfig | undefined; maxPageSize: number; resolve?: Resolve }) {
  return {
    endpoints: new PartnerEndpoints({ db, settings: options.settings, resolve: options.resolve }),
    deliveries: new PartnerDeliveries(db, options.maxPageSize),
  };
}
