/** Admins' queries and mutations of partner endpoints; every other caller gets FORBIDDEN. */
import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { audited } from "../audit/audited.js";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { CreatePartnerEndpointInput, UpdatePartnerEndpointInput } from "./partner-endpoint.input.js";
import { PartnerEndpoint, PartnerEndpointSecret } from "./partner-endpoint.type.js";
import type { EndpointWithSecret } from "./partner-endpoints.service.js";

const withSecret = ({ endpoint, secret }: EndpointWithSecret) => Object.assign(new PartnerEndpointSecret(), { endpoint: PartnerEndpoint.from(endpoint), secret });

@Resolver(() => PartnerEndpoint)
export class PartnerEndpointResolver {
  @Query(() => [PartnerEndpoint], { description: "Admins only: every partner endpoint, oldest first." })
  async partnerEndpoints(@Ctx() ctx: GraphQLContext): Promise<PartnerEndpoint[]> {
    return (await ctx.services.partners.endpoints.list(requireViewer(ctx))).map(PartnerEndpoint.from);
  }

  @Query(() => PartnerEndpoint, { nullable: true, description: "Admins only: one partner endpoint; null when there is none with this id." })
  async partnerEndpoint(@Arg("id", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<PartnerEndpoint | null> {
    const row = await ctx.services.partners.endpoints.find(requireViewer(ctx), id);
    return row && PartnerEndpoint.from(row);
  }

  @Mutation(() => PartnerEndpointSecret, {
    description: "Admins only: registers a partner endpoint, sent the events of its types logged from now on. Returns its signing secret, this once.",
  })
  async createPartnerEndpoint(@Arg("input", () => CreatePartnerEndpointInput, { description: "Its URL, event types and description." }) input: CreatePartnerEndpointInput, @Ctx() ctx: GraphQLContext): Promise<PartnerEndpointSecret> {
    return withSecret(await audited(ctx, "partnerEndpoint.create", null, (viewer, actor) => ctx.services.partners.endpoints.create(viewer, actor, input)));
  }

  @Mutation(() => PartnerEndpoint, { description: "Admins only: changes an endpoint's URL, event types or description." })
  async updatePartnerEndpoint(
    @Arg("id", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) id: string,
    @Arg("input", () => UpdatePartnerEndpointInput, { description: "What to change; fields left out stay as they are." }) input: UpdatePartnerEndpointInput,
    @Ctx() ctx: GraphQLContext,
  ): Promise<PartnerEndpoint> {
    return PartnerEndpoint.from(await audited(ctx, "partnerEndpoint.update", null, (viewer, actor) => ctx.services.partners.endpoints.update(viewer, actor, id, input)));
  }

  @Mutation(() => PartnerEndpoint, {
    description: "Admins only: disables an endpoint (nothing is sent to it), or enables it again: what was logged meanwhile is then sent, in order, and waiting retries are due at once.",
  })
  async setPartnerEndpointEnabled(@Arg("id", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) id: string, @Arg("enabled", () => Boolean, { description: "true to send to it again, false to stop." }) enabled: boolean, @Ctx() ctx: GraphQLContext): Promise<PartnerEndpoint> {
    const action = enabled ? "partnerEndpoint.enable" : "partnerEndpoint.disable";
    return PartnerEndpoint.from(await audited(ctx, action, null, (viewer, actor) => ctx.services.partners.endpoints.setEnabled(viewer, actor, id, enabled)));
  }

  @Mutation(() => ID, { description: "Admins only: deletes an endpoint with its delivery log; returns its id." })
  async deletePartnerEndpoint(@Arg("id", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<string> {
    return audited(ctx, "partnerEndpoint.delete", null, (viewer, actor) => ctx.services.partners.endpoints.delete(viewer, actor, id));
  }

  @Mutation(() => PartnerEndpointSecret, {
    description:
      "Admins only: a new signing secret, returned this once. For PARTNER_WEBHOOKS_ROTATION_OVERLAP_HOURS (24 by default) the previous secret signs too, so the partner can switch at its pace.",
  })
  async rotatePartnerEndpointSecret(@Arg("id", () => ID, { description: "The endpoint's id (`PartnerEndpoint.id`)." }) id: string, @Ctx() ctx: GraphQLContext): Promise<PartnerEndpointSecret> {
    return withSecret(await audited(ctx, "partnerEndpoint.rotateSecret", null, (viewer, actor) => ctx.services.partners.endpoints.rotateSecret(viewer, actor, id)));
  }
}
