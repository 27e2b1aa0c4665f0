/**
 * Signs HS256 bearer tokens the API accepts. Production tokens come from the clinic's identity
 * provider; this serves the embedded demo and tests.
 */
import { SignJWT } from "jose";

export function signAccessToken(
  secret: string,
  userId: string,
  options: { ttlSeconds?: number; issuer?: string; audience?: string } = {},
): Promise<string> {
  let jwt = new SignJWT({})
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setSubject(userId)
    .setIssuedAt()
    .setExpirationTime(`${options.ttlSeconds ?? 3600}s`);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(secret));
}
