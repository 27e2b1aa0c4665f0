import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { PageInfo } from "../graphql/relay.types.js";
import { encodeEventId } from "../consultations/event-cursor.js";
import type { EventRow } from "./event-log.repo.js";
import { ConsultationStatus } from "../consultations/consultation.type.js";

export enum ConsultationEventType {
  PARTICIPANT_JOINED = "PARTICIPANT_JOINED",
  PARTICIPANT_LEFT = "PARTICIPANT_LEFT",
  PARTICIPANT_OFFLINE = "PARTICIPANT_OFFLINE",
  STATUS_CHANGED = "STATUS_CHANGED",
  PRESCRIPTION_CREATED = "PRESCRIPTION_CREATED",
  EVENT_RETRACTED = "EVENT_RETRACTED",
  PARTICIPANT_JOIN_FAILED = "PARTICIPANT_JOIN_FAILED",
  NO_SHOW = "NO_SHOW",
  RUNNING_LATE = "RUNNING_LATE",
  CALL_QUALITY_CHANGED = "CALL_QUALITY_CHANGED",
}
registerEnumType(ConsultationEventType, {
  name: "ConsultationEventType",
  description: "What happened.",
  valuesConfig: {
    PARTICIPANT_LEFT: {
      description: "A side left the room. When it dropped for a network reason, `participant.state` is RECONNECTING: a PARTICIPANT_JOINED (back) or a PARTICIPANT_OFFLINE (gone) follows, unless the session closes first.",
    },
    PARTICIPANT_OFFLINE: {
      description:
        "The side that dropped at `occurredAt` did not come back within RECONNECT_WINDOW_SECONDS: it is offline (logged once the window has passed). Not logged when the session closed first.",
    },
    PARTICIPANT_JOIN_FAILED: {
      description: "A side tried to join and 100ms refused it (peer.join.failure): `participant` is the failed attempt (not online, `leftReason` JOIN_FAILED, `leftReasonDetail` 100ms's error); a connection of the side already in the room stays in.",
    },
    NO_SHOW: {
      description: "The join window closed with the call never ACTIVE and a side never joined: `noShow` says which, and how long the other waited. Comes with the STATUS_CHANGED to CANCELLED.",
    },
    RUNNING_LATE: {
      description: "The doctor (or an admin) announced a delay: `runningLate` has the minutes and the new expected start.",
    },
    CALL_QUALITY_CHANGED: {
      description: "A side's app reported a different call quality (`reportCallQuality`): `participant.quality` has the side's summary.",
    },
    EVENT_RETRACTED: {
      description:
        "Later facts from 100ms showed that the event `retracts` did not happen as pushed (a leave that was only inferred, a start that an earlier join moved back). Streams only: `Consultation.events` shows neither.",
    },
  },
});

@ObjectType({ simpleResolvers: true, description: "One entry of a consultation's timeline." })
export class ConsultationEvent {
  @Field(() => ID, { description: "Opaque and ordered: pass it as `after` to resume a stream after this event." })
  id!: string;

  @Field(() => ConsultationEventType)
  type!: ConsultationEventType;

  @Field(() => Date, { description: "When it happened (the 100ms event time for presence changes)." })
  occurredAt!: Date;

  @Field(() => ConsultationStatus, { nullable: true, description: "Set for STATUS_CHANGED." })
  previousStatus!: ConsultationStatus | null;

  @Field(() => ID, { nullable: true, description: "Set for EVENT_RETRACTED: the id of the event to remove from the timeline." })
  retracts!: string | null;

  @Field(() => Int, {
    nullable: true,
    description: "Set for CALL_QUALITY_CHANGED: the score (0-5) this report set, whenever the event is read (`participant.quality` is the side's summary as it is now).",
  })
  qualityScore!: number | null;

  /** As logged; for presence changes the resolver derives it from the consultation's timeline. */
  loggedStatus!: ConsultationStatus;

  consultationId!: string;
  side!: "doctor" | "patient" | null;
  peerId!: string | null;
  joinedAt!: Date | null;
  leftReason!: string | null;
  leaveCause!: string | null;
  leaveDetail!: string | null;
  delayMinutes!: number | null;
  prescriptionId!: string | null;

  static from(row: EventRow): ConsultationEvent {
    return Object.assign(new ConsultationEvent(), {
      id: encodeEventId(row.id),
      type: row.type as ConsultationEventType,
      occurredAt: row.occurredAt,
      loggedStatus: row.status as ConsultationStatus,
      previousStatus: (row.previousStatus as ConsultationStatus | null) ?? null,
      retracts: row.retractsId === null ? null : encodeEventId(row.retractsId),
      consultationId: row.consultationId,
      side: row.side,
      peerId: row.peerId,
      joinedAt: row.joinedAt,
      leftReason: row.leftReason,
      leaveCause: row.leaveCause,
      leaveDetail: row.leaveDetail,
      delayMinutes: row.delayMinutes,
      qualityScore: row.qualityScore,
      prescriptionId: row.prescriptionId,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: "An event in a page of a consultation's timeline." })
export class ConsultationEventEdge {
  @Field(() => String)
  cursor!: string;

  @Field(() => ConsultationEvent)
  node!: ConsultationEvent;
}

@ObjectType({ simpleResolvers: true, description: "A page of a consultation's timeline, oldest first." })
export class ConsultationEventConnection {
  @Field(() => [ConsultationEventEdge])
  edges!: ConsultationEventEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;
}
