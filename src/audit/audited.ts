import { actorOf, entry, subjectId, type Actor } from "./audit.model.js";
import type { Viewer } from "../auth/viewer.js";
import { AppError } from "../kit/errors.js";
import { requireViewer, type GraphQLContext } from "../graphql/context.js";

const DENIALS = new Set(["NOT_FOUND", "FORBIDDEN", "INVALID_STATE"]);

/**
 * Runs a mutation's use case for the signed-in caller. The use case writes its own "allowed"
 * record in its transaction; a refusal (another user's consultation, wrong side, wrong
 * state) or a failure is recorded here, outside that rolled-back transaction.
 */
export async function audited<T>(
  ctx: GraphQLContext,
  action: string,
  consultationId: string | null,
  run: (viewer: Viewer, actor: Actor) => Promise<T>,
  options: { rateLimited?: boolean } = {},
): Promise<T> {
  const viewer = requireViewer(ctx);
  const actor = actorOf(viewer, ctx);
  if (options.rateLimited) await ctx.services.rateLimits.mutation(viewer.userId, action);
  try {
    return await run(viewer, actor);
  } catch (error) {
    if (error instanceof AppError && DENIALS.has(error.code)) ctx.services.denials.record(actor, action, consultationId);
    else if (!(error instanceof AppError)) {
      ctx.services.audit.enqueue(entry(actor, action, { consultationId: subjectId(consultationId) }, "error"));
    }
    throw error;
  }
}
