import { Field, ID, InputType, Int } from "type-graphql";

@InputType({ description: "One medication to prescribe." })
export class MedicationInput {
  @Field(() => String, { description: "Non-blank, at most 200 characters." })
  name!: string;

  @Field(() => String, { description: "For example `500 mg`; non-blank, at most 100 characters." })
  dosage!: string;

  @Field(() => String, { description: "For example `twice daily`; non-blank, at most 100 characters." })
  frequency!: string;

  @Field(() => Int, { nullable: true, description: "1 to 365 when given." })
  durationDays?: number | null;

  @Field(() => String, { nullable: true, description: "At most 1000 characters." })
  instructions?: string | null;
}

@InputType({ description: "A prescription for the consultation's patient." })
export class CreatePrescriptionInput {
  @Field(() => ID)
  consultationId!: string;

  @Field(() => [MedicationInput], { description: "1 to 20 medications." })
  medications!: MedicationInput[];

  @Field(() => String, { nullable: true, description: "At most 2000 characters." })
  diagnosis?: string | null;

  @Field(() => String, { nullable: true, description: "At most 4000 characters." })
  notes?: string | null;

  @Field(() => String, {
    nullable: true,
    description: "A retried call with the same key returns the first result instead of writing twice.",
  })
  idempotencyKey?: string | null;
}
