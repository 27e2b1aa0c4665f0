import { Field, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { AttendanceInterval as IntervalRecord, AttendanceJoinFailure as FailureRecord, AttendanceLedger, AttendanceOverlap as OverlapRecord } from "./attendance.js";
import { ParticipantRole } from "../consultations/consultation.type.js";
import { LeaveReason } from "../consultations/departure.type.js";
import { CallQuality } from "../consultations/frontdesk.type.js";

const roleOf = (side: "doctor" | "patient") => (side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT);

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
  @Field(() => ParticipantRole, { description: "The side this connection was." })
  role!: ParticipantRole;

  @Field(() => String, { description: "The 100ms peer id of the connection." })
  peerId!: string;

  @Field(() => Date, { description: "When the connection joined the room." })
  from!: Date;

  @Field(() => Date, { nullable: true, description: "Null while the connection is in the room." })
  to!: Date | null;

  @Field(() => AttendanceSource, { description: "Where its times come from: 100ms's webhooks, the API's inference, or the session's close." })
  source!: AttendanceSource;

  @Field(() => LeaveReason, { nullable: true, description: "Why the connection ended (null while in the room): left, removed, dropped, the call ended…" })
  endReason!: LeaveReason | null;

  @Field(() => String, { nullable: true, description: "100ms's own words for `endReason` (the leave's reason, a kick's message, the room end's reason)." })
  endReasonDetail!: string | null;

  @Field(() => [ID], { description: "The 100ms webhook ids (envelope `id`) behind it: its join, its leave, the session close that ended it." })
  webhookIds!: string[];

  static from(r: IntervalRecord): AttendanceInterval {
    return Object.assign(new AttendanceInterval(), {
      role: roleOf(r.side),
      peerId: r.peerId, from: r.from, to: r.to, source: r.source as AttendanceSource, webhookIds: r.webhookIds,
      endReason: (r.end?.cause as LeaveReason | undefined) ?? null, endReasonDetail: r.end?.detail ?? null,
    });
  }
}

@ObjectType({ simpleResolvers: true, description: "A join 100ms refused (peer.join.failure): the side never got into the room on that attempt." })
export class AttendanceJoinFailure {
  @Field(() => ParticipantRole, { description: "The side whose join 100ms refused." })
  role!: ParticipantRole;

  @Field(() => String, { description: "The 100ms peer id of the attempt." })
  peerId!: string;

  @Field(() => Date, { description: "When 100ms reported the failure." })
  at!: Date;

  @Field(() => String, { nullable: true, description: "100ms's `error_message`." })
  detail!: string | null;

  @Field(() => [ID], { description: "The 100ms webhook ids behind it." })
  webhookIds!: string[];

  static from(r: FailureRecord): AttendanceJoinFailure {
    return Object.assign(new AttendanceJoinFailure(), { role: roleOf(r.side), peerId: r.peerId, at: r.at, detail: r.detail, webhookIds: r.webhookIds });
  }
}

@ObjectType({ simpleResolvers: true, description: "A stretch during which both sides were in the room: what is billed." })
export class AttendanceOverlap {
  @Field(() => Date, { description: "When both sides were first in the room together for this stretch." })
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

@ObjectType({ simpleResolvers: true, description: "Each side's call quality as its app reported it, kept with the attendance record (a billing dispute sees 'poor connection for 40% of the call')." })
export class AttendanceQuality {
  @Field(() => CallQuality, { nullable: true, description: "Null when the doctor's app never reported." })
  doctor!: CallQuality | null;

  @Field(() => CallQuality, { nullable: true, description: "Null when the patient's app never reported." })
  patient!: CallQuality | null;
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

  @Field(() => [AttendanceJoinFailure], { description: "Joins 100ms refused, oldest first (never billed)." })
  joinFailures!: AttendanceJoinFailure[];

  @Field(() => AttendanceQuality, { description: "Each side's call quality, as reported by its app." })
  quality!: AttendanceQuality;

  static from(ledger: AttendanceLedger, quality: { doctor: CallQuality | null; patient: CallQuality | null } = { doctor: null, patient: null }): Attendance {
    return Object.assign(new Attendance(), {
      doctor: ledger.intervals.doctor.map(AttendanceInterval.from),
      patient: ledger.intervals.patient.map(AttendanceInterval.from),
      overlaps: ledger.overlaps.map(AttendanceOverlap.from),
      connectedSeconds: ledger.connectedSeconds,
      joinFailures: ledger.joinFailures.map(AttendanceJoinFailure.from),
      quality: Object.assign(new AttendanceQuality(), quality),
    });
  }
}
