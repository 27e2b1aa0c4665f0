import { Ctx, FieldResolver, Query, Resolver, Root } from "type-graphql";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { Doctor, Patient, User } from "./clinic.types.js";

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: "The signed-in user." })
  async me(@Ctx() ctx: GraphQLContext): Promise<User> {
    const viewer = requireViewer(ctx);
    return User.from(await ctx.services.users.me(viewer));
  }

  @FieldResolver(() => Doctor, { nullable: true, description: "Set when this user is a doctor." })
  async doctor(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<Doctor | null> {
    const record = user.doctorId ? await ctx.loaders.doctor.load(user.doctorId) : null;
    return record && Doctor.from(record);
  }

  @FieldResolver(() => Patient, { nullable: true, description: "Set when this user is a patient." })
  async patient(@Root() user: User, @Ctx() ctx: GraphQLContext): Promise<Patient | null> {
    const record = user.patientId ? await ctx.loaders.patient.load(user.patientId) : null;
    return record && Patient.from(record);
  }
}
