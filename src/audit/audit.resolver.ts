import { Arg, Ctx, Int, Query, Resolver } from "type-graphql";
import { checkPageSize } from "../consultations/consultation.service.js";
import { AppError, badInput } from "../errors.js";
import { parseId } from "../ids.js";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { PageInfo } from "../graphql/relay.types.js";
import { AuditEvent, AuditEventConnection, AuditEventEdge, AuditEventFilter, decodeAuditCursor } from "./audit-event.type.js";

@Resolver(() => AuditEvent)
export class AuditResolver {
  @Query(() => AuditEventConnection, { description: "Admins only: the audit trail, newest first." })
  async auditEvents(
    @Arg("filter", () => AuditEventFilter, { nullable: true }) filter: AuditEventFilter | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after: string | null,
    @Ctx() ctx: GraphQLContext,
  ): Promise<AuditEventConnection> {
    const viewer = requireViewer(ctx);
    if (viewer.role !== "admin") throw new AppError("FORBIDDEN", "Only admins can read the audit trail");
    const size = checkPageSize(first ?? 50, ctx.services.maxPageSize);
    const rows = await ctx.services.repos.audit.page({
      consultationId: filter?.consultationId != null ? parseId(filter.consultationId, "filter.consultationId") : undefined,
      actorId: filter?.actorId != null ? parseId(filter.actorId, "filter.actorId") : undefined,
      from: filter?.from ?? undefined,
      to: filter?.to ?? undefined,
      before: after != null ? (decodeAuditCursor(after) ?? invalidCursor()) : undefined,
      limit: size + 1,
    });
    const edges = rows.slice(0, size).map((row) => {
      const node = AuditEvent.from(row);
      return Object.assign(new AuditEventEdge(), { cursor: node.id, node });
    });
    return Object.assign(new AuditEventConnection(), {
      edges,
      pageInfo: PageInfo.of(
        edges.map((e) => e.cursor),
        rows.length > size,
      ),
    });
  }
}

function invalidCursor(): never {
  throw badInput("after is not a valid cursor", "after");
}
