import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Doctor, Patient } from "../clinic/clinic.types.js";
import { Consultation } from "../consultations/consultation.type.js";
import { recordRead, type GraphQLContext } from "../graphql/context.js";
import { present } from "../loaders.js";
import { Appointment } from "./appointment.type.js";

/** Appointments are only reachable from a consultation the viewer may see. */
@Resolver(() => Appointment)
export class AppointmentResolver {
  @FieldResolver(() => Doctor)
  async doctor(@Root() appointment: Appointment, @Ctx() ctx: GraphQLContext): Promise<Doctor> {
    return Doctor.from(present(await ctx.loaders.doctor.load(appointment.doctorId), "doctor"));
  }

  @FieldResolver(() => Patient)
  async patient(@Root() appointment: Appointment, @Ctx() ctx: GraphQLContext): Promise<Patient> {
    return Patient.from(present(await ctx.loaders.patient.load(appointment.patientId), "patient"));
  }

  @FieldResolver(() => Consultation, { nullable: true, description: "The video consultation, once created." })
  async consultation(@Root() appointment: Appointment, @Ctx() ctx: GraphQLContext): Promise<Consultation | null> {
    const record = await ctx.loaders.consultationByAppointment.load(appointment.id);
    if (record) recordRead(ctx, record);
    return record && Consultation.from(record);
  }
}
