import { AppError, unauthenticated } from "../kit/errors.js";
import { isUuid } from "../kit/ids.js";
import { bearerToken, type TokenVerifier } from "./token-verifier.js";
import type { Viewer } from "./viewer.js";

export type FindViewer = (userId: string) => Promise<Viewer | null>;
/** FindViewer for many users in one read: each id's Viewer (or null), in the ids' order. */
export type FindViewers = (userIds: readonly string[]) => Promise<ReadonlyArray<Viewer | null>>;

export type Authentication =
  | { viewer: Viewer; error: null; expiresAt: Date }
  | { viewer: null; error: Error; expiresAt: null };

/**
 * Turns an Authorization header into a Viewer. Used by every transport (through
 * graphql/request-pipeline.ts). A missing or bad token, or an unknown user, becomes an
 * UNAUTHENTICATED error that resolvers raise when they need a viewer. A fault on our side (the
 * users table unreachable, the JWKS endpoint down) is thrown: it is no verdict on the token,
 * and must never reach the client as one.
 */
export async function authenticate(
  header: string | undefined | null,
  verify: TokenVerifier,
  findViewer: FindViewer,
): Promise<Authentication> {
  try {
    const token = bearerToken(header);
    if (token === null) throw unauthenticated("Authentication required");
    const { subject, expiresAt } = await verify(token);
    // `sub` is users.id exactly as issued (a lower-case uuid). PostgreSQL's uuid type would
    // also find the user for an upper-case or brace-wrapped spelling; such a token was not ours.
    const viewer = isUuid(subject) ? await findViewer(subject) : null;
    if (viewer === null || viewer.userId !== subject) throw unauthenticated("Unknown user");
    return { viewer, error: null, expiresAt };
  } catch (error) {
    if (!(error instanceof AppError)) throw error;
    return { viewer: null, error, expiresAt: null };
  }
}
