import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Node, PageInfo } from "../graphql/relay.types.js";
import type { ConsultationCursor, ConsultationRecord } from "./consultation.model.js";
import { encodeConsultationCursor } from "./consultation.cursor.js";
import { LeaveReason } from "./departure.type.js";

/** Keys are the GraphQL names; values are the database's. */
export enum ConsultationStatus {
  PENDING = "pending",
  ACTIVE = "active",
  COMPLETED = "completed",
  CANCELLED = "cancelled",
}
registerEnumType(ConsultationStatus, {
  name: "ConsultationStatus",
  description: "Lifecycle: PENDING until both sides are first in the room, then ACTIVE, then COMPLETED; or CANCELLED.",
});

export enum ParticipantRole {
  DOCTOR = "doctor",
  PATIENT = "patient",
}
registerEnumType(ParticipantRole, { name: "ParticipantRole", description: "A side of the 1:1 call." });

/** Keys are the GraphQL names; values are the rules' (src/consultations/reconnects.ts). */
export enum PresenceState {
  ONLINE = "online",
  RECONNECTING = "reconnecting",
  OFFLINE = "offline",
}
registerEnumType(PresenceState, {
  name: "PresenceState",
  description: "Where a side is: in the room, dropped for a network reason and retrying (for up to RECONNECT_WINDOW_SECONDS), or gone.",
  valuesConfig: {
    ONLINE: { description: "The side has a connection in the room." },
    RECONNECTING: {
      description:
        "The side's last connection dropped for a network reason (100ms: `websocket closed`, `ice connection state closed`, `network disconnection`); it is retrying until `reconnectingUntil`, unless it rejoins or the session closes first.",
    },
    OFFLINE: { description: "The side is not in the room: never joined, left, or did not come back within the reconnect window." },
  },
});

@ObjectType({ simpleResolvers: true, description: "One side of the 1:1 call and whether it is in the room now." })
export class Participant {
  @Field(() => ID, { description: "The side's user id (`User.id`)." })
  userId!: string;

  @Field(() => ParticipantRole)
  role!: ParticipantRole;

  @Field(() => String)
  fullName!: string;

  @Field(() => Boolean, { description: "True while at least one of this side's connections is in the room." })
  online!: boolean;

  @Field(() => PresenceState, { description: "ONLINE when `online`; RECONNECTING while a dropped connection may still come back; else OFFLINE." })
  state!: PresenceState;

  @Field(() => Date, { nullable: true, description: "On `Consultation.participants`, while RECONNECTING: when the side counts as gone if it has not rejoined (null in events)." })
  reconnectingUntil!: Date | null;

  @Field(() => String, { nullable: true, description: "The 100ms peer id of the current (or last) connection." })
  peerId!: string | null;

  @Field(() => Date, { nullable: true, description: "When this side last joined the room." })
  joinedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When this side last left the room; null while online." })
  leftAt!: Date | null;

  @Field(() => LeaveReason, {
    nullable: true,
    description: "Why this side is out of the room: its last connection's end, or a failed join after it. Null while online, or before it ever tried to join. In events: why it left (PARTICIPANT_LEFT, PARTICIPANT_OFFLINE) or failed (PARTICIPANT_JOIN_FAILED).",
  })
  leftReason!: LeaveReason | null;

  @Field(() => String, { nullable: true, description: "100ms's own words for `leftReason`: the leave's reason, a kick's message, a failed join's error, the room end's reason." })
  leftReasonDetail!: string | null;

  /** Where `quality` is read from: the consultation, and until when a score holds (its end; now while open). */
  consultationId?: string;
  until?: Date | null;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "The video call of one appointment." })
export class Consultation extends Node {
  @Field(() => ConsultationStatus)
  status!: ConsultationStatus;

  @Field(() => String, { nullable: true, description: "The 100ms room; null until the room is provisioned." })
  roomId!: string | null;

  @Field(() => Date, { nullable: true, description: "When both sides were first in the room together." })
  startedAt!: Date | null;

  @Field(() => Date, { nullable: true, description: "When the call ended." })
  endedAt!: Date | null;

  @Field(() => Int, { nullable: true, description: "From `startedAt` to `endedAt`, in seconds." })
  durationSeconds!: number | null;

  appointmentId!: string;
  doctorId!: string;
  patientId!: string;

  static from(record: ConsultationRecord): Consultation {
    return Object.assign(new Consultation(), {
      id: record.id,
      status: record.status as ConsultationStatus,
      roomId: record.roomId,
      startedAt: record.startedAt,
      endedAt: record.endedAt,
      durationSeconds: record.durationSeconds,
      appointmentId: record.appointmentId,
      doctorId: record.doctorId,
      patientId: record.patientId,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: "A consultation in a page of consultations." })
export class ConsultationEdge {
  // Plain properties, not #private ones: compiled for the decorators, those are a WeakMap each
  // (3% of a dashboard page's CPU for its 50 edges).
  private key!: ConsultationCursor;
  private encoded: string | undefined;

  /** Encoded when first read: a dashboard's page of 50 rarely asks for more than the last. */
  @Field(() => String, { description: "Opaque; pass as `after` to continue after this consultation." })
  get cursor(): string {
    return (this.encoded ??= encodeConsultationCursor(this.key));
  }

  @Field(() => Consultation)
  node!: Consultation;

  /** The edge of `node`, at `key` in the list's order. */
  static of(node: Consultation, key: ConsultationCursor): ConsultationEdge {
    const edge = new ConsultationEdge();
    edge.node = node;
    edge.key = key;
    return edge;
  }
}

@ObjectType({ simpleResolvers: true, description: "A page of consultations." })
export class ConsultationConnection {
  @Field(() => [ConsultationEdge])
  edges!: ConsultationEdge[];

  @Field(() => PageInfo)
  pageInfo!: PageInfo;

  @Field(() => ID, {
    description:
      "Where the event log stood when this request began: subscribe with `after: liveCursor` to get every change after what this response shows, on any instance, with no gap (an event this response already reflects may come once more).",
  })
  liveCursor!: string;
}

@InputType({ description: "Narrows `consultations`; every given condition must hold." })
export class ConsultationFilter {
  @Field(() => [ConsultationStatus], { nullable: true, description: "Any of these statuses." })
  status?: ConsultationStatus[] | null;

  @Field(() => Date, { nullable: true, description: "Appointments scheduled at or after this time." })
  from?: Date | null;

  @Field(() => Date, { nullable: true, description: "Appointments scheduled before this time." })
  to?: Date | null;
}
