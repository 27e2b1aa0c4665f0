/** The front desk's fields of a consultation (why its call ended, who never came, who waits, who runs late) and the delay's announcement. */
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import { audited } from "../audit/audited.js";
import { requireVisible, type GraphQLContext } from "../graphql/context.js";
import { mapLoaded, present } from "../kit/loaded.js";
import { Consultation, ConsultationStatus } from "./consultation.type.js";
import { endReasonOf } from "./departures.js";
import { CallEndReason } from "./departure.type.js";
import { NoShow, RunningLate, Waiting } from "./frontdesk.type.js";
import { MAX_ANNOUNCEMENTS, MAX_DELAY_MINUTES } from "./running-late.service.js";

@Resolver(() => Consultation)
export class ConsultationFrontDeskResolver {
  @FieldResolver(() => CallEndReason, { nullable: true, description: "Why the call ended (COMPLETED or CANCELLED); null while the consultation is open." })
  endReason(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): CallEndReason | null | Promise<CallEndReason | null> {
    return mapLoaded(ctx.loaders.closure.get(consultation.id), (closure) => endReasonOf(closure) as CallEndReason | null);
  }

  @FieldResolver(() => NoShow, { nullable: true, description: "Set when the join window closed with the call never ACTIVE and a side never joined (then `endReason` is NO_SHOW)." })
  noShow(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): NoShow | null | Promise<NoShow | null> {
    return mapLoaded(ctx.loaders.closure.get(consultation.id), NoShow.from);
  }

  @FieldResolver(() => Waiting, { nullable: true, description: "Who is waiting in the room alone, and since when; null when nobody is, or the consultation is over." })
  waiting(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Waiting | null | Promise<Waiting | null> {
    if (consultation.status !== ConsultationStatus.PENDING && consultation.status !== ConsultationStatus.ACTIVE) return null;
    return mapLoaded(ctx.loaders.live.get(consultation.id), (live) => {
      const side = live?.waitingSide;
      const since = live?.waitingSince;
      if (!side || !since) return null;
      const person = side === "doctor" ? ctx.loaders.doctor.get(consultation.doctorId) : ctx.loaders.patient.get(consultation.patientId);
      return mapLoaded(person, (p: { userId: string; fullName: string } | null) => Waiting.of(side, present(p, side), since, new Date()));
    });
  }

  @FieldResolver(() => RunningLate, { nullable: true, description: "The delay the doctor announced and the new expected start; null when none (or announced back to 0) or once the call started." })
  runningLate(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): RunningLate | null | Promise<RunningLate | null> {
    if (consultation.status !== ConsultationStatus.PENDING) return null;
    return mapLoaded(ctx.loaders.delay.get(consultation.id), (delay) => {
      if (!delay || delay.minutes === 0) return null;
      return mapLoaded(ctx.loaders.appointment.get(consultation.appointmentId), (a) => RunningLate.of(delay.minutes, present(a, "appointment").scheduledAt, delay.announcedAt));
    });
  }

  @Mutation(() => Consultation, {
    description: `The doctor is running late: announces the call's expected start as \`minutes\` after the booked one (0: back on time). The consultation's doctor or an admin, while PENDING; at most ${MAX_DELAY_MINUTES} minutes and ${MAX_ANNOUNCEMENTS} announcements (BAD_USER_INPUT past them); the same delay again is a no-op. The patient's subscription gets a RUNNING_LATE event; the join window and the no-show expiry move by the delay.`,
  })
  async announceDelay(
    @Arg("consultationId", () => ID, { description: "The consultation the doctor is late for." }) consultationId: string,
    @Arg("minutes", () => Int, { description: `Minutes after the booked start, 0 to ${MAX_DELAY_MINUTES}.` }) minutes: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<Consultation> {
    return Consultation.from(
      await audited(ctx, "consultation.delay", consultationId, (_viewer, actor) => ctx.services.runningLate.announce(requireVisible(ctx), actor, consultationId, minutes)),
    );
  }
}
