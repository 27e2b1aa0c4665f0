import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "../graphql/relay.types.js";
import { encodeAuditCursor } from "./audit.cursor.js";
import type { AuditPageRow } from "./audit.repo.js";

export enum AuditOutcome {
  ALLOWED = "allowed",
  DENIED = "denied",
  ERROR = "error",
}
registerEnumType(AuditOutcome, { name: "AuditOutcome", description: "What became of the access." });

@ObjectType({ simpleResolvers: true, description: "One access to patient data, or one attempt at it." })
export class AuditEvent {
  @Field(() => ID)
  id!: string;

  @Field(() => Date)
  occurredAt!: Date;

  @Field(() => ID, { nullable: true, description: "Null for the 100ms webhook sender and the API's own jobs." })
  actorId!: string | null;

  @Field(() => String, { nullable: true, description: "patient, doctor, admin, webhook or system." })
  actorRole!: string | null;

  @Field(() => String, { description: "For example `consultation.read`, `consultation.join`, `prescription.create`." })
  action!: string;

  @Field(() => ID, { nullable: true })
  consultationId!: string | null;

  @Field(() => ID, { nullable: true })
  patientId!: string | null;

  @Field(() => AuditOutcome)
  outcome!: AuditOutcome;

  @Field(() => Int, {
    nullable: true,
    description:
      "On a record of repeated denials: how many refusals of this action by this actor, within a minute of the first (recorded on its own), it stands for. Null on every other record.",
  })
  repeats!: number | null;

  @Field(() => String, { nullable: true })
  requestId!: string | null;

  @Field(() => String, { nullable: true })
  clientIp!: string | null;

  @Field(() => ID, { nullable: true, description: "What the record is about when it is not a consultation: the partner endpoint of a `partnerEndpoint.*` record." })
  targetId!: string | null;

  static from({ occurredAtExact, ordinal, ...row }: AuditPageRow): AuditEvent {
    const id = encodeAuditCursor({ occurredAt: occurredAtExact, id: row.id, ordinal });
    return Object.assign(new AuditEvent(), { ...row, id, outcome: row.outcome as AuditOutcome });
  }
}

@ObjectType({ simpleResolvers: true })
export class AuditEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => AuditEvent)
  node!: AuditEvent;
}

@ObjectType({ simpleResolvers: true, description: "A page of the audit trail, newest first." })
export class AuditEventConnection {
  @Field(() => [AuditEventEdge])
  edges!: AuditEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}

@InputType({ description: "Narrows `auditEvents`; every given condition must hold." })
export class AuditEventFilter {
  @Field(() => ID, { nullable: true })
  consultationId?: string | null;

  @Field(() => ID, { nullable: true })
  actorId?: string | null;

  @Field(() => Date, { nullable: true, description: "At or after this time." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Before this time." })
  to?: Date | null;
}
