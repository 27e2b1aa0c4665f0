import { Field, Int, ObjectType, registerEnumType } from "type-graphql";
import type { AppointmentRecord } from "./clinic.model.js";
import { Node } from "../graphql/relay.types.js";

/** Keys are the GraphQL names; values are the database's. */
export enum AppointmentStatus {
  SCHEDULED = "scheduled",
  CONFIRMED = "confirmed",
  COMPLETED = "completed",
  CANCELLED = "cancelled",
  NO_SHOW = "no_show",
}
registerEnumType(AppointmentStatus, { name: "AppointmentStatus", description: "The booking's status." });

@ObjectType({ simpleResolvers: true, implements: Node, description: "A booked appointment in the clinic's calendar." })
export class Appointment extends Node {
  @Field(() => Date, { description: "When the appointment starts." })
  scheduledAt!: Date;

  @Field(() => Int, { description: "Booked length in minutes." })
  durationMinutes!: number;

  @Field(() => AppointmentStatus)
  status!: AppointmentStatus;

  @Field(() => String, { nullable: true, description: "Why the patient booked, in their words." })
  reason!: string | null;

  doctorId!: string;
  patientId!: string;

  static from(record: AppointmentRecord): Appointment {
    return Object.assign(new Appointment(), {
      id: record.id,
      scheduledAt: record.scheduledAt,
      durationMinutes: record.durationMinutes,
      status: record.status as AppointmentStatus,
      reason: record.reason,
      doctorId: record.doctorId,
      patientId: record.patientId,
    });
  }
}
