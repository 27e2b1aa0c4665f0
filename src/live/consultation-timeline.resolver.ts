/** `Consultation.events`: a consultation's timeline as a page of the event log, oldest first. */
import { Arg, Ctx, FieldResolver, Int, Resolver, Root } from "type-graphql";
import { Consultation } from "../consultations/consultation.type.js";
import type { GraphQLContext } from "../graphql/context.js";
import { PageInfo } from "../graphql/relay.types.js";
import { ConsultationEvent, ConsultationEventConnection, ConsultationEventEdge } from "./consultation-event.type.js";

@Resolver(() => Consultation)
export class ConsultationTimelineResolver {
  @FieldResolver(() => ConsultationEventConnection, { description: "The consultation's timeline, oldest first." })
  async events(
    @Root() consultation: Consultation,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<ConsultationEventConnection> {
    const args = { first: first ?? 50, after };
    // Read with the consultation when the query asked for both (`consultation(id:)`).
    const page = await ctx.services.consultations.events(consultation.id, args.first, after, ctx.loaders.timeline(consultation.id, args));
    const edges = page.rows.map((row) => {
      const node = ConsultationEvent.from(row);
      return Object.assign(new ConsultationEventEdge(), { cursor: node.id, node });
    });
    return Object.assign(new ConsultationEventConnection(), {
      edges,
      pageInfo: PageInfo.of(
        edges.map((e) => e.cursor),
        page.hasNextPage,
      ),
    });
  }
}
