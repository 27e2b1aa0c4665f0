/** GraphQL types of what a front desk reads of a consultation: who never came. */
import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import type { ClosureRow } from "./frontdesk.repo.js";

/** Keys are the GraphQL names; values are the rules' (no-shows.ts). */
export enum NoShowSide {
  PATIENT = "patient",
  DOCTOR = "doctor",
  BOTH = "both",
}
registerEnumType(NoShowSide, { name: "NoShowSide", description: "Which side never joined before the join window closed." });

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
