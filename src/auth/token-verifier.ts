/**
 * Verifies bearer JWTs with jose: HS256 with a shared secret, or asymmetric keys from a JWKS
 * URL. Algorithms are pinned (so `alg: none` and algorithm confusion are refused), `exp` and
 * `sub` are required, and issuer/audience are checked when configured.
 */
import { createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from "jose";
import { unauthenticated } from "../errors.js";

export interface TokenVerifierOptions {
  jwtSecret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceSeconds: number;
}

/** Resolves to the token's `sub`; rejects with an UNAUTHENTICATED AppError. */
export type TokenVerifier = (token: string) => Promise<{ subject: string; expiresAt: Date }>;

const ASYMMETRIC_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"];

const VERIFIED_TTL_MS = 60_000;
const VERIFIED_MAX = 10_000;

export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const verifyOptions: JWTVerifyOptions = {
    requiredClaims: ["exp", "sub"],
    clockTolerance: options.clockToleranceSeconds,
    ...(options.issuer ? { issuer: options.issuer } : {}),
    ...(options.audience ? { audience: options.audience } : {}),
  };
  let verify: (token: string) => ReturnType<typeof jwtVerify>;
  if (options.jwtSecret) {
    const key = new TextEncoder().encode(options.jwtSecret);
    verify = (token) => jwtVerify(token, key, { ...verifyOptions, algorithms: ["HS256"] });
  } else if (options.jwksUrl) {
    const keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(options.jwksUrl));
    verify = (token) => jwtVerify(token, keys, { ...verifyOptions, algorithms: ASYMMETRIC_ALGORITHMS });
  } else {
    throw new Error("createTokenVerifier: a JWT secret or a JWKS URL is required");
  }
  // A token verified once is the same bytes next time: its result is kept until its expiry
  // (with the clock tolerance, as jose checks it) or a minute, whichever comes first, so a
  // dashboard's every request does not pay for the signature again (a JWKS key that
  // rotates out stops working within that minute).
  const verified = new Map<string, { subject: string; expiresAt: Date; until: number }>();
  return async (token) => {
    const hit = verified.get(token);
    if (hit && Date.now() < hit.until) return { subject: hit.subject, expiresAt: hit.expiresAt };
    if (hit) verified.delete(token);
    const result = await verifyOnce(token);
    verified.set(token, { ...result, until: Math.min(Date.now() + VERIFIED_TTL_MS, result.expiresAt.getTime() + options.clockToleranceSeconds * 1000) });
    if (verified.size > VERIFIED_MAX) verified.delete(verified.keys().next().value!);
    return result;
  };

  async function verifyOnce(token: string): Promise<{ subject: string; expiresAt: Date }> {
    let payload;
    try {
      ({ payload } = await verify(token));
    } catch (error) {
      throw unauthenticated(describeJoseFailure(error));
    }
    if (typeof payload.sub !== "string" || payload.sub.length === 0) {
      throw unauthenticated("Invalid token");
    }
    // jose accepts an `iat` in the future; a token "issued" tomorrow is forged or from a broken clock.
    if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + options.clockToleranceSeconds) {
      throw unauthenticated("Invalid token");
    }
    return { subject: payload.sub, expiresAt: new Date(payload.exp! * 1000) };
  }
}

/** A client-safe reason: says what is wrong with the token, never echoes its content. */
function describeJoseFailure(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ERR_JWT_EXPIRED") return "Token expired";
  return "Invalid token";
}

/** Extracts the token of an `Authorization: Bearer <token>` value; null when absent. */
export function bearerToken(header: string | undefined | null): string | null {
  if (!header) return null;
  const match = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(header);
  if (!match?.[1]) throw unauthenticated("Malformed Authorization header");
  return match[1];
}
