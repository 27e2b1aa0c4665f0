import { Field, ID, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "../graphql/relay.types.js";
import { Prescription } from "../prescriptions/prescription.type.js";
import { Consultation, ConsultationStatus, Participant } from "./consultation.type.js";

export enum ConsultationEventType {
  PARTICIPANT_JOINED = "PARTICIPANT_JOINED",
  PARTICIPANT_LEFT = "PARTICIPANT_LEFT",
  STATUS_CHANGED = "STATUS_CHANGED",
  PRESCRIPTION_CREATED = "PRESCRIPTION_CREATED",
}
registerEnumType(ConsultationEventType, { name: "ConsultationEventType", description: "What happened." });

@ObjectType({ description: "One entry of a consultation's timeline." })
export class ConsultationEvent {
  @Field(() => ID, { description: "Opaque and ordered: pass it as `after` to resume a stream after this event." })
  id!: string;

  @Field(() => ConsultationEventType)
  type!: ConsultationEventType;

  @Field(() => Date, { description: "When it happened (the 100ms event time for presence changes)." })
  occurredAt!: Date;

  @Field(() => Consultation)
  consultation!: Consultation;

  @Field(() => Participant, { nullable: true, description: "Set for PARTICIPANT_JOINED and PARTICIPANT_LEFT." })
  participant!: Participant | null;

  @Field(() => ConsultationStatus, { nullable: true, description: "Set for STATUS_CHANGED." })
  previousStatus!: ConsultationStatus | null;

  @Field(() => ConsultationStatus, { description: "The consultation's status right after this event." })
  status!: ConsultationStatus;

  @Field(() => Prescription, { nullable: true, description: "Set for PRESCRIPTION_CREATED." })
  prescription!: Prescription | null;
}

@ObjectType({ description: "An event in a page of a consultation's timeline." })
export class ConsultationEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ConsultationEvent)
  node!: ConsultationEvent;
}

@ObjectType({ description: "A page of a consultation's timeline, oldest first." })
export class ConsultationEventConnection {
  @Field(() => [ConsultationEventEdge])
  edges!: ConsultationEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
