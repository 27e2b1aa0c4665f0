import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Doctor, Patient } from "./clinic.types.js";
import type { GraphQLContext } from "../graphql/context.js";
import { present } from "../kit/loaded.js";
import { Appointment } from "./appointment.type.js";

/** Appointments are only reachable from a consultation the viewer may see (`Appointment.consultation` is resolved in consultations/). */
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
}
