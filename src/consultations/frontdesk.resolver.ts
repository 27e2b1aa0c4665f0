/** The front desk's fields of a consultation: why its call ended (and, below, who never came, who waits, who runs late). */
import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import type { GraphQLContext } from "../graphql/context.js";
import { mapLoaded } from "../kit/loaded.js";
import { Consultation } from "./consultation.type.js";
import { endReasonOf } from "./departures.js";
import { CallEndReason } from "./departure.type.js";
import { NoShow } from "./frontdesk.type.js";

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
}
