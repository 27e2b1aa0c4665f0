/** Admins' delivery log and its levers (redeliver, replay); every other caller gets FORBIDDEN. */
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { audited } from "../audit/audited.js";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { PageInfo } from "../graphql/relay.types.js";
import { PartnerDelivery, PartnerDeliveryConnection, PartnerDeliveryEdge } from "./partner-delivery.type.js";
import { PartnerEndpoint } from "./partner-endpoint.type.js";

@Resolver(() => PartnerDelivery)
export class PartnerDeliveryResolver {
  @Query(() => PartnerDeliveryConnection, { description: "Admins only: an endpoint's delivery log, newest first, with every attempt." })
  async partnerDeliveries(
    @Arg("endpointId", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) endpointId: string,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50, description: "Page size." }) first: number | null,
    @Arg("after", () => String, { nullable: true, description: "The `endCursor` of the previous page." }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PartnerDeliveryConnection> {
    const page = await ctx.services.partners.deliveries.page(requireViewer(ctx), endpointId, first ?? 50, after);
    const edges = page.rows.map((row) => {
      const node = PartnerDelivery.from(row);
      return Object.assign(new PartnerDeliveryEdge(), { cursor: node.id, node });
    });
    return Object.assign(new PartnerDeliveryConnection(), { edges, pageInfo: PageInfo.of(edges.map((e) => e.cursor), page.hasNextPage) });
  }

  @Mutation(() => PartnerDelivery, {
    description: "Admins only: sends a delivery's event to its endpoint again, as a new delivery (same `webhook-id`), due now.",
  })
  async redeliverPartnerDelivery(@Arg("id", () => ID, { description: "The delivery's id (`PartnerDelivery.id`)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<PartnerDelivery> {
    return PartnerDelivery.from(await audited(ctx, "partnerDelivery.redeliver", null, (viewer, actor) => ctx.services.partners.deliveries.redeliver(viewer, actor, id)));
  }

  @Mutation(() => PartnerEndpoint, {
    description:
      "Admins only: sends the endpoint every event of its types again from an event (`fromEventId`, a `ConsultationEvent.id`, included) or a time (`fromTime`: the events logged at or after it), in order per consultation. Give exactly one.",
  })
  async replayPartnerEndpoint(
    @Arg("id", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) id: string,
    @Arg("fromEventId", () => ID, { nullable: true, description: "Replay from this event (a `ConsultationEvent.id`), included." }) fromEventId: string | null,
    @Arg("fromTime", () => Date, { nullable: true, description: "Replay the events logged at or after this time." }) fromTime: Date | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PartnerEndpoint> {
    return PartnerEndpoint.from(
      await audited(ctx, "partnerEndpoint.replay", null, (viewer, actor) => ctx.services.partners.deliveries.replay(viewer, actor, id, { eventId: fromEventId, time: fromTime })),
    );
  }
}
