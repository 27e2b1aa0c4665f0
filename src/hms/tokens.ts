import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";

/** Workspace credentials from the 100ms dashboard (Developer section). */
export interface HmsCredentials {
  accessKey: string;
  appSecret: string;
}

export interface MintedToken {
  token: string;
  /** The token's `exp`, i.e. `expiresAt` truncated to whole seconds. */
  expiresAt: Date;
}

export interface AppTokenInput {
  roomId: string;
  /** Our own stable user id. Never a name or e-mail: 100ms stores it unhashed. */
  userId: string;
  /** A role name of the room's template; 100ms compares it case-sensitively. */
  role: string;
  expiresAt: Date;
  now?: Date;
}

export interface ManagementTokenInput {
  ttlSeconds?: number;
  now?: Date;
}

/**
 * 100ms's Node SDK back-dates iat/nbf by 10 s for clock skew. The server's own skew
 * tolerance is not confirmed, so we keep the SDK's value (and rely on NTP).
 */
const CLOCK_SKEW_SECONDS = 10;

/**
 * The maximum lifetime of a self-minted management token is not confirmed (only
 * dashboard tokens are documented: 7 days default, 14 max). Safe reading: keep it
 * short; HmsClient re-mints before expiry anyway.
 */
export const DEFAULT_MANAGEMENT_TOKEN_TTL_SECONDS = 60 * 60;

/**
 * Mints the auth ("app") token a client SDK uses to join one room as one role.
 * Claims are exactly those 100ms documents for auth tokens (access_key, room_id, user_id,
 * role, type "app", version 2, jti, iat, nbf); `exp` is `expiresAt` in whole seconds.
 * Throws RangeError when `expiresAt` is not after `now`.
 */
export async function mintAppToken(creds: HmsCredentials, input: AppTokenInput): Promise<MintedToken> {
  const now = input.now ?? new Date();
  const exp = toSeconds(input.expiresAt);
  if (exp <= toSeconds(now)) throw new RangeError("app token expiresAt must be in the future");
  const claims = {
    access_key: creds.accessKey,
    room_id: input.roomId,
    user_id: String(input.userId),
    role: input.role,
    type: "app",
    version: 2,
  };
  return sign(creds, claims, now, exp);
}

/**
 * Mints a management token for the REST API (`Authorization: Bearer ...`): the app
 * token's claims without room_id/user_id/role and with `type: "management"`.
 */
export async function mintManagementToken(
  creds: HmsCredentials,
  input: ManagementTokenInput = {},
): Promise<MintedToken> {
  const ttl = input.ttlSeconds ?? DEFAULT_MANAGEMENT_TOKEN_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl <= 0) throw new RangeError("ttlSeconds must be a positive integer");
  const now = input.now ?? new Date();
  const claims = { access_key: creds.accessKey, type: "management", version: 2 };
  return sign(creds, claims, now, toSeconds(now) + ttl);
}

async function sign(
  creds: HmsCredentials,
  claims: Record<string, string | number>,
  now: Date,
  exp: number,
): Promise<MintedToken> {
  const issuedAt = toSeconds(now) - CLOCK_SKEW_SECONDS;
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setJti(randomUUID())
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(exp)
    .sign(new TextEncoder().encode(creds.appSecret));
  return { token, expiresAt: new Date(exp * 1000) };
}

function toSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
