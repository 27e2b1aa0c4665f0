import { Field, Int, ObjectType } from "type-graphql";
import { Node } from "../graphql/relay.types.js";
import type { MedicationRecord, PrescriptionRecord } from "./prescription.model.js";

@ObjectType({ simpleResolvers: true, description: "One medication of a prescription." })
export class Medication {
  @Field(() => String)
  name!: string;

  @Field(() => String, { description: "For example `500 mg`." })
  dosage!: string;

  @Field(() => String, { description: "For example `twice daily`." })
  frequency!: string;

  @Field(() => Int, { nullable: true, description: "How many days to take it, when limited." })
  durationDays!: number | null;

  @Field(() => String, { nullable: true })
  instructions!: string | null;

  static from(record: MedicationRecord): Medication {
    return Object.assign(new Medication(), record);
  }
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "A prescription a doctor wrote for a patient." })
export class Prescription extends Node {
  @Field(() => [Medication])
  medications!: Medication[];

  @Field(() => String, { nullable: true })
  diagnosis!: string | null;

  @Field(() => String, { nullable: true })
  notes!: string | null;

  @Field(() => Date)
  createdAt!: Date;

  consultationId!: string | null;
  doctorId!: string;
  patientId!: string;

  static from(record: PrescriptionRecord): Prescription {
    return Object.assign(new Prescription(), {
      id: record.id,
      medications: record.medications.map(Medication.from),
      diagnosis: record.diagnosis,
      notes: record.notes,
      createdAt: record.createdAt,
      consultationId: record.consultationId,
      doctorId: record.doctorId,
      patientId: record.patientId,
    });
  }
}
