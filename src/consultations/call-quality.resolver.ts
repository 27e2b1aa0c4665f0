/** Call quality: the apps' reports (`reportCallQuality`) and `Participant.quality`. */
import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import { audited } from "../audit/audited.js";
import { requireVisible, type GraphQLContext } from "../graphql/context.js";
import { qualityAt } from "./call-quality.js";
import { Participant, ParticipantRole } from "./consultation.type.js";
import { CallQuality, CallQualityReport, QualityReportOutcome } from "./frontdesk.type.js";

@Resolver(() => Participant)
export class CallQualityResolver {
  @Mutation(() => CallQualityReport, {
    description:
      "The caller's own app reports its side's call quality, 0-5 (hmssdk_flutter's network quality of the local peer), during the call. Report on change: at most one report per side is written every 10 s (THROTTLED), and none outside the call (NOT_IN_CALL); neither is an error. The consultation's doctor or patient only.",
  })
  async reportCallQuality(
    @Arg("consultationId", () => ID, { description: "The consultation whose call the caller is in." }) consultationId: string,
    @Arg("score", () => Int, { description: "0 (no connection) to 5 (excellent)." }) score: number,
    @Ctx() ctx: GraphQLContext,
  ): Promise<CallQualityReport> {
    const report = await audited(ctx, "consultation.quality", consultationId, (_viewer, actor) =>
      ctx.services.callQuality.report(requireVisible(ctx), actor, consultationId, score),
    );
    return Object.assign(new CallQualityReport(), {
      outcome: report.outcome as QualityReportOutcome,
      role: report.side === "doctor" ? ParticipantRole.DOCTOR : ParticipantRole.PATIENT,
      quality: report.quality && CallQuality.from(report.quality),
    });
  }

  @FieldResolver(() => CallQuality, { nullable: true, description: "This side's call quality as its app reported it, live; null before its first report." })
  async quality(@Root() participant: Participant, @Ctx() ctx: GraphQLContext): Promise<CallQuality | null> {
    if (!participant.consultationId) return null;
    const rows = await ctx.loaders.quality.load(participant.consultationId);
    const row = rows.find((r) => r.side === participant.role);
    return row ? CallQuality.from(qualityAt(row, participant.until ?? new Date())) : null;
  }
}
