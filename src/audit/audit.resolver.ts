import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { PageInfo } from "../graphql/relay.types.js";
import { AuditEvent, AuditEventConnection, AuditEventEdge, AuditEventFilter } from "./audit-event.type.js";

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: "Admins only: the audit trail, newest first." })
  async auditEvents(
    @Arg("filter", () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuditEventConnection> {
    const page = await ctx.services.auditTrail.page(requireViewer(ctx), filter, first ?? 50, after);
    const edges = page.rows.map((row) => {
      const node = AuditEvent.from(row);
      return Object.assign(new AuditEventEdge(), { cursor: node.id, node });
    });
    return Object.assign(new AuditEventConnection(), {
      edges,
      pageInfo: PageInfo.of(
        edges.map((e) => e.cursor),
        page.hasNextPage,
      ),
    });
  }
}
