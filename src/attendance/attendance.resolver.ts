/** `Consultation.attendance`: the ledger, for the consultation's own doctor and patient and admins. */
import { Ctx, FieldResolver, Resolver, Root } from "type-graphql";
import { Consultation } from "../consultations/consultation.type.js";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";
import { Attendance } from "./attendance.type.js";
import { qualityAt } from "../consultations/call-quality.js";
import { CallQuality } from "../consultations/frontdesk.type.js";
import { assertMayReadAttendance } from "./attendance.service.js";

@Resolver(() => Consultation)
export class ConsultationAttendanceResolver {
  @FieldResolver(() => Attendance, {
    nullable: true,
    description: "The attendance ledger: each side's intervals in the room and the overlaps billed as `connectedSeconds`, traced to 100ms's webhooks. The consultation's doctor, its patient and admins only (FORBIDDEN otherwise).",
  })
  async attendance(@Root() consultation: Consultation, @Ctx() ctx: GraphQLContext): Promise<Attendance> {
    assertMayReadAttendance(requireViewer(ctx), consultation);
    const [ledger, rows] = await Promise.all([ctx.loaders.attendance.load({ id: consultation.id, roomId: consultation.roomId }), ctx.loaders.quality.load(consultation.id)]);
    const of = (side: "doctor" | "patient") => {
      const row = rows.find((r) => r.side === side);
      return row ? CallQuality.from(qualityAt(row, consultation.endedAt ?? new Date())) : null;
    };
    return Attendance.from(ledger, { doctor: of("doctor"), patient: of("patient") });
  }
}
