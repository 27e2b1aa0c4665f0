/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com), made with the
 * `standardwebhooks` package, so a partner verifies with any off-the-shelf library: `v1,`
 * and the base64 HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>` under the secret's
 * bytes. During a rotation's overlap both secrets sign, space-separated, and either verifies.
 */
import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/** A new `whsec_` secret: 24 random bytes in base64, as Svix issues them. */
export function newSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

export interface SignedHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

export function signedHeaders(id: string, at: Date, body: string, secrets: readonly string[]): SignedHeaders {
  const signatures = secrets.map((secret) => new Webhook(secret).sign(id, at, body));
  return { "webhook-id": id, "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": signatures.join(" ") };
}
