/** The GraphQL face of partner endpoints, mapped from their rows (secrets never leave but once, in PartnerEndpointSecret). */
import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { ConsultationEventType } from "../live/consultation-event.type.js";
import type { EndpointRow } from "./partner-endpoint.repo.js";

/** Keys are the GraphQL names; values are the database's. */
export enum PartnerEndpointDisabledReason {
  ADMIN = "admin",
  GONE = "gone",
  FAILING = "failing",
}
registerEnumType(PartnerEndpointDisabledReason, {
  name: "PartnerEndpointDisabledReason",
  description: "Why a partner endpoint receives nothing now.",
  valuesConfig: {
    ADMIN: { description: "An admin disabled it (`setPartnerEndpointEnabled`)." },
    GONE: { description: "The partner answered a delivery with 410 Gone." },
    FAILING: { description: "A delivery used up its retries (about a day by default) with no success at the endpoint since that delivery's first attempt." },
  },
});

@ObjectType({ simpleResolvers: true, description: "Admins only: an HTTPS endpoint of a partner that is sent signed webhooks (Standard Webhooks) for the consultation events it subscribes to." })
export class PartnerEndpoint {
  @Field(() => ID, { description: "The endpoint's id." })
  id!: string;

  @Field(() => String, { description: "Where deliveries are POSTed." })
  url!: string;

  @Field(() => String, { description: "The admin's note on what it is (the partner, the integration)." })
  description!: string;

  @Field(() => [ConsultationEventType], { description: "The consultation events it is sent, each as a webhook of type `consultation.<type in lower case>`." })
  eventTypes!: ConsultationEventType[];

  @Field(() => Boolean, { description: "False while nothing is sent to it; what was logged meanwhile is sent, in order, once it is enabled again." })
  enabled!: boolean;

  @Field(() => PartnerEndpointDisabledReason, { nullable: true, description: "Why it is disabled; null while enabled." })
  disabledReason!: PartnerEndpointDisabledReason | null;

  @Field(() => Date, { nullable: true, description: "When it was disabled; null while enabled." })
  disabledAt!: Date | null;

  @Field(() => Date, {
    nullable: true,
    description: "After a secret rotation: until when deliveries are also signed with the previous secret (two signatures in `webhook-signature`); null otherwise.",
  })
  previousSecretExpiresAt!: Date | null;

  @Field(() => Date, { description: "When it was created." })
  createdAt!: Date;

  @Field(() => Date, { description: "When an admin last changed it." })
  updatedAt!: Date;

  static from(row: EndpointRow): PartnerEndpoint {
    const overlapping = row.previousSecret !== null && row.previousSecretUntil !== null && row.previousSecretUntil > new Date();
    return Object.assign(new PartnerEndpoint(), {
      id: row.id,
      url: row.url,
      description: row.description,
      eventTypes: row.eventTypes as ConsultationEventType[],
      enabled: row.enabled,
      disabledReason: row.disabledReason as PartnerEndpointDisabledReason | null,
      disabledAt: row.disabledAt,
      previousSecretExpiresAt: overlapping ? row.previousSecretUntil : null,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: "A partner endpoint with its signing secret, shown this once (at creation or rotation): store it now." })
export class PartnerEndpointSecret {
  @Field(() => PartnerEndpoint, { description: "The endpoint." })
  endpoint!: PartnerEndpoint;

  @Field(() => String, { description: "The `whsec_…` secret that signs its deliveries (Standard Webhooks); never shown again." })
  secret!: string;
}
