import { Arg, Ctx, ID, Mutation, Resolver } from "type-graphql";
import { audited } from "../audit/audited.js";
import { requireVisible, type GraphQLContext } from "../graphql/context.js";
import { Consultation, ParticipantRole } from "./consultation.type.js";
import { JoinToken } from "./join-token.type.js";

@Resolver()
export class ConsultationCommandsResolver {
  @Mutation(() => Consultation, {
    description:
      "Creates the consultation for a video appointment and provisions its 100ms room. Idempotent: a second call returns the same consultation. For the appointment's doctor, patient, or an admin.",
  })
  async startConsultation(
    @Arg("appointmentId", () => ID) appointmentId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Consultation> {
    return Consultation.from(
      await audited(ctx, "consultation.start", null, (_viewer, actor) => ctx.services.commands.start(requireVisible(ctx), actor, appointmentId), {
        rateLimited: true,
      }),
    );
  }

  @Mutation(() => JoinToken, {
    description:
      "A fresh 100ms auth token for the caller's own side of the consultation. Only its doctor or patient; from JOIN_EARLY_MINUTES before the appointment until JOIN_GRACE_MINUTES after its end, or while ACTIVE.",
  })
  async joinConsultation(
    @Arg("consultationId", () => ID) consultationId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<JoinToken> {
    const result = await audited(ctx, "consultation.join", consultationId, (_viewer, actor) =>
      ctx.services.commands.join(requireVisible(ctx), actor, consultationId),
      { rateLimited: true },
    );
    return Object.assign(new JoinToken(), {
      token: result.token,
      roomId: result.roomId,
      role: result.side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT,
      userId: result.userId,
      expiresAt: result.expiresAt,
    });
  }

  @Mutation(() => Consultation, {
    description:
      "The doctor ends the call for both sides: the room is ended and locked, the consultation COMPLETED. Idempotent.",
  })
  async endConsultation(
    @Arg("consultationId", () => ID) consultationId: string,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Consultation> {
    return Consultation.from(
      await audited(ctx, "consultation.end", consultationId, (_viewer, actor) => ctx.services.commands.end(requireVisible(ctx), actor, consultationId)),
    );
  }

  @Mutation(() => Consultation, {
    description: "Cancels a consultation that has not become ACTIVE; its room is disabled. Doctor, patient or admin.",
  })
  async cancelConsultation(
    @Arg("consultationId", () => ID) consultationId: string,
    @Arg("reason", () => String, { nullable: true, description: "Why; at most 500 characters." }) reason: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Consultation> {
    return Consultation.from(
      await audited(ctx, "consultation.cancel", consultationId, (_viewer, actor) =>
        ctx.services.commands.cancel(requireVisible(ctx), actor, consultationId, reason),
      ),
    );
  }
}
