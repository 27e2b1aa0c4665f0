import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { AttendanceInterval as IntervalRecord, AttendanceLedger, AttendanceOverlap as OverlapRecord } from "./attendance.js";
import { ParticipantRole } from "../consultations/consultation.type.js";

/** Keys are the GraphQL names; values are the ledger's. */
export enum AttendanceSource {
  REPORTED = "reported",
  INFERRED = "inferred",
  CLOSED_BY_SESSION_END = "closed_by_session_end",
}
registerEnumType(AttendanceSource, {
  name: "AttendanceSource",
  description: "Where an interval's times come from.",
  valuesConfig: {
    REPORTED: { description: "Both ends as 100ms reported them in webhooks." },
    INFERRED: { description: "An end is the API's inference (the reconciler's, where a webhook is missing)." },
    CLOSED_BY_SESSION_END: { description: "The connection's own leave is missing; the session's close (reported) ended it." },
  },
});

@ObjectType({ simpleResolvers: true, description: "One connection of one side in the room." })
export class AttendanceInterval {
  @Field(() => ParticipantRole)
  role!: ParticipantRole;

  @Field(() => String, { description: "The 100ms peer id of the connection." })
  peerId!: string;

  @Field(() => Date)
  from!: Date;

  @Field(() => Date, { nullable: true, description: "Null while the connection is in the room." })
  to!: Date | null;

  @Field(() => AttendanceSource)
  source!: AttendanceSource;

  @Field(() => [ID], { description: "The 100ms webhook ids (envelope `id`) behind it: its join, its leave, the session close that ended it." })
  webhookIds!: string[];

  static from(r: IntervalRecord): AttendanceInterval {
    return Object.assign(new AttendanceInterval(), {
      role: r.side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT,
      peerId: r.peerId, from: r.from, to: r.to, source: r.source as AttendanceSource, webhookIds: r.webhookIds,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: "A stretch during which both sides were in the room: what is billed." })
export class AttendanceOverlap {
  @Field(() => Date)
  from!: Date;

  @Field(() => Date, { nullable: true, description: "Null while both are still in." })
  to!: Date | null;

  @Field(() => Int, { description: "Whole seconds of an ended overlap; 0 while open." })
  seconds!: number;

  @Field(() => [ID], { description: "The webhook ids behind both sides' intervals it is made of." })
  webhookIds!: string[];

  static from(r: OverlapRecord): AttendanceOverlap {
    return Object.assign(new AttendanceOverlap(), r);
  }
}

@ObjectType({ simpleResolvers: true, description: "What `connectedSeconds` is made of, traced to 100ms's deliveries." })
export class Attendance {
  @Field(() => [AttendanceInterval], { description: "The doctor's connections, oldest first." })
  doctor!: AttendanceInterval[];

  @Field(() => [AttendanceInterval], { description: "The patient's connections, oldest first." })
  patient!: AttendanceInterval[];

  @Field(() => [AttendanceOverlap], { description: "Both in the room, oldest first; their seconds add up to `connectedSeconds`." })
  overlaps!: AttendanceOverlap[];

  @Field(() => Int, { description: "The sum of the ended overlaps." })
  connectedSeconds!: number;

  static from(ledger: AttendanceLedger): Attendance {
    return Object.assign(new Attendance(), {
      doctor: ledger.intervals.doctor.map(AttendanceInterval.from),
      patient: ledger.intervals.patient.map(AttendanceInterval.from),
      overlaps: ledger.overlaps.map(AttendanceOverlap.from),
      connectedSeconds: ledger.connectedSeconds,
    });
  }
}
