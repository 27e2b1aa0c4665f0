import { Field, InputType } from "type-graphql";
import { ConsultationEventType } from "../live/consultation-event.type.js";

@InputType({ description: "A new partner endpoint." })
export class CreatePartnerEndpointInput {
  @Field(() => String, {
    description: "An https URL whose host resolves to public addresses only (PARTNER_WEBHOOKS_ALLOW_HTTP and PARTNER_WEBHOOKS_ALLOW_HOSTS relax this for tests and private deployments); no credentials in it.",
  })
  url!: string;

  @Field(() => [ConsultationEventType], { description: "The consultation events to send it (at least one)." })
  eventTypes!: ConsultationEventType[];

  @Field(() => String, { nullable: true, description: "What it is, for admins (at most 500 characters)." })
  description?: string | null;
}

@InputType({ description: "Changes to a partner endpoint: the fields given replace the current ones." })
export class UpdatePartnerEndpointInput {
  @Field(() => String, { nullable: true, description: "A new URL, checked as at creation." })
  url?: string | null;

  @Field(() => [ConsultationEventType], { nullable: true, description: "The consultation events to send it from now on (at least one)." })
  eventTypes?: ConsultationEventType[] | null;

  @Field(() => String, { nullable: true, description: "A new description (at most 500 characters)." })
  description?: string | null;
}
