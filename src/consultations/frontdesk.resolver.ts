/** The front desk's fields of a consultation: why its call ended (and, below, who never came, who waits, who runs late). */
import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../graphql/context.js";
import { mapLoaded, present } from "../kit/loaded.js";
import { Consultation, ConsultationStatus } from "./consultation.type.js";
import { endReasonOf } from "./departures.js";
import { CallEndReason } from "./departure.type.js";
import { NoShow, Waiting } from "./frontdesk.type.js";

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
}
