/**
 * Verifies bearer JWTs with jose: HS256 with a shared secret, or asymmetric keys from a JWKS
 * URL. Algorithms are pinned (so `alg: none` and algorithm confusion are refused), `exp` and
 * `sub` are required, issuer/audience are checked when configured, a `typ` other than JWT is
 * refused (an `at+jwt`, `dpop+jwt` or logout token is not ours to accept), and no token may
 * live longer than `maxLifetimeSeconds`.
 */
import { webcrypto } from "node:crypto";
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions } from "jose";
import { LRUCache } from "lru-cache";
import { unauthenticated } from "../kit/errors.js";

export interface TokenVerifierOptions {
  jwtSecret?: string | undefined;
  jwksUrl?: string | undefined;
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceSeconds: number;
  /** Longest `exp − iat` accepted; without `iat`, the longest `exp − now`. */
  maxLifetimeSeconds: number;
}

export interface VerifiedToken {
  subject: string;
  expiresAt: Date;
}

/** Resolves to the token's `sub` and expiry; rejects with an UNAUTHENTICATED AppError. */
export type TokenVerifier = (token: string) => Promise<VerifiedToken>;

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
    const key = hmacKey(options.jwtSecret); // once: given the bytes, jose imports a key per token
    verify = async (token) => jwtVerify(token, await key, { ...verifyOptions, algorithms: ["HS256"] });
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
  // Read on the wall clock, as `exp` is, and on every lookup (no cached "now"): a kept
  // result must not outlive its token by even a millisecond.
  const verified = new LRUCache<string, VerifiedToken>({ max: VERIFIED_MAX, ttl: VERIFIED_TTL_MS, perf: Date, ttlResolution: 0 });
  return async (token) => {
    const hit = verified.get(token);
    if (hit) return hit;
    const result = await verifyOnce(token);
    const untilExpiry = result.expiresAt.getTime() + options.clockToleranceSeconds * 1000 - Date.now();
    verified.set(token, result, { ttl: Math.max(1, Math.min(VERIFIED_TTL_MS, untilExpiry)) });
    return result;
  };

  async function verifyOnce(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    let typ: string | undefined;
    try {
      ({ payload, protectedHeader: { typ } } = await verify(token));
    } catch (error) {
      // The key set could not be fetched: our fault (or the identity provider's), not the token's.
      if (isKeySetUnavailable(error)) throw error;
      throw unauthenticated(describeJoseFailure(error));
    }
    if (typeof payload.sub !== "string" || payload.sub.length === 0) throw unauthenticated("Invalid token");
    // RFC 7519 §5.1: `typ` is a media type, so compared case-insensitively.
    if (typ !== undefined && typ.toUpperCase() !== "JWT") throw unauthenticated("Invalid token");
    const now = Date.now() / 1000;
    // jose accepts an `iat` in the future; a token "issued" tomorrow is forged or from a broken clock.
    if (typeof payload.iat === "number" && payload.iat > now + options.clockToleranceSeconds) {
      throw unauthenticated("Invalid token");
    }
    // A leaked long-lived token is a long-lived breach: refuse what no identity provider
    // should mint. Without `iat` the lifetime left counts (our clock may lag the issuer's by
    // the tolerance), so such a token still expires soon enough.
    const issuedAt = typeof payload.iat === "number" ? payload.iat : now + options.clockToleranceSeconds;
    if (payload.exp! - issuedAt > options.maxLifetimeSeconds) throw unauthenticated("Token lifetime too long");
    return { subject: payload.sub, expiresAt: new Date(payload.exp! * 1000) };
  }
}

/** The HS256 verification key, as jose would import it from the secret's bytes for each token. */
function hmacKey(secret: string): Promise<webcrypto.CryptoKey> {
  const key = webcrypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  key.catch(() => undefined); // a key that cannot be imported fails each verification, as jose's import would
  return key;
}

/** jose's JWKS fetch timed out or failed (its errors carry a code; a network failure is a TypeError). */
function isKeySetUnavailable(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === "ERR_JWKS_TIMEOUT" || !(typeof code === "string" && code.startsWith("ERR_"));
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
