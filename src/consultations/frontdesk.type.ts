/** GraphQL types of what a front desk reads of a consultation: who waits, who runs late, who never came. */
import { Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import type { QualitySummary } from "./call-quality.js";
import type { ClosureRow } from "./frontdesk.repo.js";
import { ParticipantRole } from "./consultation.type.js";
import { waitedSeconds } from "./waiting.js";

/** Keys are the GraphQL names; values are the rules' (no-shows.ts). */
export enum NoShowSide {
  PATIENT = "patient",
  DOCTOR = "doctor",
  BOTH = "both",
}
registerEnumType(NoShowSide, {
  name: "NoShowSide",
  description: "Which side never joined before the join window closed.",
  valuesConfig: {
    PATIENT: { description: "The patient never joined (the doctor did): the appointment becomes NO_SHOW." },
    DOCTOR: { description: "The doctor never joined (the patient did): the appointment is CANCELLED, not NO_SHOW." },
    BOTH: { description: "Neither side joined: the appointment becomes NO_SHOW." },
  },
});

@ObjectType({
  simpleResolvers: true,
  description:
    "The join window closed and the call never became ACTIVE: who never joined, and how long the other waited. The appointment's status is NO_SHOW only when the patient never came (PATIENT, BOTH); a doctor's no-show leaves it CANCELLED.",
})
export class NoShow {
  @Field(() => NoShowSide, { description: "The side that never joined." })
  absent!: NoShowSide;

  @Field(() => Int, { description: "Seconds the side that came spent in the room, waiting, before the window closed (0 when both stayed away)." })
  waitedSeconds!: number;

  @Field(() => Date, { description: "When the API recorded it (the expiry, soon after the window closed)." })
  at!: Date;

  /** Null unless the closure recorded a side that never came. */
  static from(closure: ClosureRow | null): NoShow | null {
    if (!closure?.noShow) return null;
    return Object.assign(new NoShow(), { absent: closure.noShow as NoShowSide, waitedSeconds: closure.waitedSeconds ?? 0, at: closure.closedAt });
  }
}

@ObjectType({
  simpleResolvers: true,
  description:
    "A side alone in the room: before the call became ACTIVE, or after the other side dropped or stepped out. A dashboard shows 'Sam Patel, waiting 7 min' from `fullName` and `seconds`, and sorts by `since`.",
})
export class Waiting {
  @Field(() => ParticipantRole, { description: "The side that waits alone in the room." })
  role!: ParticipantRole;

  @Field(() => ID, { description: "The waiting side's user id (`User.id`)." })
  userId!: string;

  @Field(() => String, { description: "The waiting person's full name, as the clinic's records have it." })
  fullName!: string;

  @Field(() => Date, { description: "When this stretch alone began: the side's join, or the other side's leave, whichever came last." })
  since!: Date;

  @Field(() => Int, { description: "Whole seconds waited when this response was made (a client adds the time since, to tick)." })
  seconds!: number;

  static of(side: "doctor" | "patient", person: { userId: string; fullName: string }, since: Date, now: Date): Waiting {
    const role = side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT;
    return Object.assign(new Waiting(), { role, userId: person.userId, fullName: person.fullName, since, seconds: waitedSeconds(since, now) });
  }
}

@ObjectType({ simpleResolvers: true, description: "The doctor is running late: the delay announced, and when the call is now expected to start." })
export class RunningLate {
  @Field(() => Int, { description: "Minutes after the booked start (`Appointment.scheduledAt`)." })
  minutes!: number;

  @Field(() => Date, { description: "`Appointment.scheduledAt` plus `minutes`." })
  expectedStartAt!: Date;

  @Field(() => Date, { description: "When it was announced." })
  announcedAt!: Date;

  static of(minutes: number, scheduledAt: Date, announcedAt: Date): RunningLate {
    return Object.assign(new RunningLate(), { minutes, expectedStartAt: new Date(scheduledAt.getTime() + minutes * 60_000), announcedAt });
  }
}

@ObjectType({
  simpleResolvers: true,
  description: "A side's call quality as its app reported it (0-5, hmssdk_flutter's network quality; a score holds until the next report or the call's end).",
})
export class CallQuality {
  @Field(() => Int, { description: "The last score reported." })
  latest!: number;

  @Field(() => Int, { description: "The lowest score reported." })
  lowest!: number;

  @Field(() => Int, { description: "Reports written (at most one per 10 s)." })
  reports!: number;

  @Field(() => Int, { description: "Seconds from the first report to the call's end (or now)." })
  reportedSeconds!: number;

  @Field(() => Int, { description: "Of those, seconds at a score of 2 or less." })
  poorSeconds!: number;

  @Field(() => Float, { description: "`poorSeconds / reportedSeconds`, 0 to 1: 'poor connection for 40% of the call' is 0.4." })
  poorShare!: number;

  static from(summary: QualitySummary): CallQuality {
    return Object.assign(new CallQuality(), summary);
  }
}

/** Keys are the GraphQL names; values are the service's. */
export enum QualityReportOutcome {
  ACCEPTED = "accepted",
  THROTTLED = "throttled",
  NOT_IN_CALL = "not_in_call",
}
registerEnumType(QualityReportOutcome, {
  name: "QualityReportOutcome",
  description: "What became of a call-quality report. Only ACCEPTED is written; the others are ignored, not errors.",
  valuesConfig: {
    ACCEPTED: { description: "Written: the side's summary now includes this score." },
    THROTTLED: { description: "Within 10 s of this side's last written report: report on change, not on a timer." },
    NOT_IN_CALL: { description: "The consultation is not ACTIVE." },
  },
});

@ObjectType({ simpleResolvers: true, description: "The answer to `reportCallQuality`." })
export class CallQualityReport {
  @Field(() => QualityReportOutcome, { description: "Whether the report was written or ignored (throttled, or outside the call)." })
  outcome!: QualityReportOutcome;

  @Field(() => ParticipantRole, { description: "The caller's side, the one reported on." })
  role!: ParticipantRole;

  @Field(() => CallQuality, { nullable: true, description: "The side's summary after this report (null before any was written)." })
  quality!: CallQuality | null;
}
