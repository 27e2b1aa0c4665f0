import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Doctor, Patient } from "../clinic/clinic.types.js";
import { Consultation } from "../consultations/consultation.type.js";
import type { GraphQLContext } from "../graphql/context.js";
import { present } from "../graphql/loaders.js";
import { Prescription } from "./prescription.type.js";

/** Prescriptions are only reachable from a consultation the viewer may see. */
@Resolver(() => Prescription)
export class PrescriptionResolver {
  @FieldResolver(() => Consultation, { nullable: true })
  async consultation(@Root() prescription: Prescription, @Ctx() ctx: GraphQLContext): Promise<Consultation | null> {
    const record = prescription.consultationId ? await ctx.loaders.consultation.load(prescription.consultationId) : null;
    return record && Consultation.from(record);
  }

  @FieldResolver(() => Doctor)
  async doctor(@Root() prescription: Prescription, @Ctx() ctx: GraphQLContext): Promise<Doctor> {
    return Doctor.from(present(await ctx.loaders.doctor.load(prescription.doctorId), "doctor"));
  }

  @FieldResolver(() => Patient)
  async patient(@Root() prescription: Prescription, @Ctx() ctx: GraphQLContext): Promise<Patient> {
    return Patient.from(present(await ctx.loaders.patient.load(prescription.patientId), "patient"));
  }
}
