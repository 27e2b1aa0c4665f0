import { Arg, Ctx, FieldResolver, Mutation, Resolver, Root } from "type-graphql";
import { audited } from "../audit/audited.js";
import { CreatePrescriptionInput } from "./prescription.input.js";
import { Doctor, Patient } from "../clinic/clinic.types.js";
import { Consultation } from "../consultations/consultation.type.js";
import { recordRead, requireVisible, type GraphQLContext } from "../graphql/context.js";
import { present } from "../kit/loaded.js";
import { Prescription } from "./prescription.type.js";

/** Prescriptions are only reachable from a consultation the viewer may see. */
@Resolver(() => Prescription)
export class PrescriptionResolver {
  @Mutation(() => Prescription, {
    description:
      "The consultation's doctor writes a prescription, during the call or after it (within PRESCRIPTION_WINDOW_HOURS of its end).",
  })
  async createPrescription(
    @Arg("input", () => CreatePrescriptionInput) input: CreatePrescriptionInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Prescription> {
    const record = await audited(ctx, "prescription.create", input.consultationId, (_viewer, actor) =>
      ctx.services.prescriptions.create(requireVisible(ctx), actor, input),
      { rateLimited: true },
    );
    return Prescription.from(record);
  }

  @FieldResolver(() => Consultation, { nullable: true })
  async consultation(@Root() prescription: Prescription, @Ctx() ctx: GraphQLContext): Promise<Consultation | null> {
    const record = prescription.consultationId ? await ctx.loaders.consultation.load(prescription.consultationId) : null;
    if (record) recordRead(ctx, record);
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

/** `Consultation.prescriptions`: resolved here, beside the type it lists. */
@Resolver(() => Consultation)
export class ConsultationPrescriptionsResolver {
  @FieldResolver(() => [Prescription], { description: "Prescriptions written for this consultation, newest first." })
  async prescriptions(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Promise<Prescription[]> {
    return (await ctx.loaders.prescriptionsByConsultation.load(consultation.id)).map(Prescription.from);
  }
}
