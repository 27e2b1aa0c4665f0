/** The delivery log's GraphQL types: deliveries and their attempts, with nothing a partner sent back. */
import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { encodeEventId } from "../consultations/event-cursor.js";
import { PageInfo } from "../graphql/relay.types.js";
import { ConsultationEventType } from "../live/consultation-event.type.js";
import type { DeliveryWithAttempts } from "./partner-deliveries.service.js";
import { encodeDeliveryId } from "./partner-delivery.cursor.js";

export enum PartnerDeliveryStatus {
  PENDING = "pending",
  DELIVERED = "delivered",
  FAILED = "failed",
  CANCELLED = "cancelled",
}
registerEnumType(PartnerDeliveryStatus, {
  name: "PartnerDeliveryStatus",
  description: "Where a delivery stands.",
  valuesConfig: {
    PENDING: { description: "Not delivered yet: due, waiting for a retry, behind an earlier event of its consultation, or its endpoint is disabled." },
    DELIVERED: { description: "The partner answered 2xx in time." },
    FAILED: { description: "Given up after the last retry (`redeliverPartnerDelivery` sends it again)." },
    CANCELLED: { description: "Replaced by a replay that covers its event." },
  },
});

export enum PartnerDeliveryOrigin {
  EVENT = "event",
  REDELIVERY = "redelivery",
  REPLAY = "replay",
}
registerEnumType(PartnerDeliveryOrigin, {
  name: "PartnerDeliveryOrigin",
  description: "Why a delivery exists: the event was logged, an admin resent it, or an admin replayed the endpoint.",
  valuesConfig: {
    EVENT: { description: "The event was logged and is of one of the endpoint's types." },
    REDELIVERY: { description: "An admin resent one delivery (`redeliverPartnerDelivery`)." },
    REPLAY: { description: "An admin replayed the endpoint from an event or a time (`replayPartnerEndpoint`)." },
  },
});

@ObjectType({ simpleResolvers: true, description: "One attempt at a delivery: what the partner answered, never its body." })
export class PartnerDeliveryAttempt {
  @Field(() => Int, { description: "1 for the first attempt." })
  attempt!: number;

  @Field(() => Date, { description: "When the request was sent." })
  startedAt!: Date;

  @Field(() => Int, { description: "Milliseconds until the answer (or the failure)." })
  durationMs!: number;

  @Field(() => Int, { nullable: true, description: "The HTTP status; null when none came." })
  statusCode!: number | null;

  @Field(() => String, {
    nullable: true,
    description: "Null on a 2xx; else http_status, gone (410), redirect (never followed), timeout, connect_timeout, address_refused (not a public address), dns_error, connection_refused, connection_reset, tls_error or network_error.",
  })
  errorClass!: string | null;
}

@ObjectType({ simpleResolvers: true, description: "One consultation event sent (or to be sent) to one partner endpoint." })
export class PartnerDelivery {
  @Field(() => ID, { description: "The delivery's id (`redeliverPartnerDelivery`)." })
  id!: string;

  @Field(() => ID, { description: "The endpoint it goes to." })
  endpointId!: string;

  @Field(() => ID, { description: "The event's id (`ConsultationEvent.id`): the `webhook-id` header and `data.eventId` of every attempt." })
  eventId!: string;

  @Field(() => ConsultationEventType, { description: "The event's type." })
  eventType!: ConsultationEventType;

  @Field(() => ID, { description: "The consultation of the event." })
  consultationId!: string;

  @Field(() => PartnerDeliveryStatus, { description: "Where it stands." })
  status!: PartnerDeliveryStatus;

  @Field(() => PartnerDeliveryOrigin, { description: "Why it exists." })
  origin!: PartnerDeliveryOrigin;

  @Field(() => Int, { description: "Attempts made so far." })
  attemptCount!: number;

  @Field(() => Date, { nullable: true, description: "While PENDING: when it is next tried (at the earliest)." })
  nextAttemptAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the partner acknowledged it (2xx)." })
  deliveredAt!: Date | null;

  @Field(() => Date, { description: "When it was planned." })
  createdAt!: Date;

  @Field(() => [PartnerDeliveryAttempt], { description: "Every attempt, oldest first." })
  attempts!: PartnerDeliveryAttempt[];

  static from(row: DeliveryWithAttempts): PartnerDelivery {
    return Object.assign(new PartnerDelivery(), {
      id: encodeDeliveryId(row.id),
      endpointId: row.endpointId,
      eventId: encodeEventId(row.eventId),
      eventType: row.eventType as ConsultationEventType,
      consultationId: row.consultationId,
      status: row.status as PartnerDeliveryStatus,
      origin: row.origin as PartnerDeliveryOrigin,
      attemptCount: row.attempts,
      nextAttemptAt: row.status === "pending" ? row.nextAttemptAt : null,
      deliveredAt: row.deliveredAt,
      createdAt: row.createdAt,
      attempts: row.attemptLog.map(({ attempt, startedAt, durationMs, statusCode, errorClass }) => Object.assign(new PartnerDeliveryAttempt(), { attempt, startedAt, durationMs, statusCode, errorClass })),
    });
  }
}

@ObjectType({ simpleResolvers: true, description: "A delivery in a page of an endpoint's delivery log." })
export class PartnerDeliveryEdge {
  @Field(() => String, { description: "Pass as `after` for the deliveries older than this one." })
  cursor!: string;

  @Field(() => PartnerDelivery, { description: "The delivery." })
  node!: PartnerDelivery;
}

@ObjectType({ simpleResolvers: true, description: "A page of an endpoint's delivery log, newest first." })
export class PartnerDeliveryConnection {
  @Field(() => [PartnerDeliveryEdge], { description: "The deliveries of this page." })
  edges!: PartnerDeliveryEdge[];

  @Field(() => PageInfo, { description: "Where this page ends." })
  pageInfo!: PageInfo;
}
