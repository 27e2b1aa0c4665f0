/**
 * Endpoint signing secrets at rest: AES-256-GCM under PARTNER_WEBHOOKS_SECRET_KEY, bound to
 * their endpoint's id (as additional data, so a sealed secret copied to another row does not
 * open). The sender needs each secret in clear to sign, so it cannot be hashed; sealed, a copy
 * of the database alone does not hand them out. Format: `v1.<key id>.<iv>.<tag>.<ciphertext>`
 * (base64url), the key id being the first bytes of the key's SHA-256, so a secret sealed under
 * another key is told apart from a damaged one.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/** A sealed secret this key cannot open (another key, or altered). Never carries the secret. */
export class SealedSecretError extends Error {
  override readonly name = "SealedSecretError";
}

export class SecretBox {
  readonly #keyId: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error("the secret key must be 32 bytes");
    this.#keyId = createHash("sha256").update(key).digest("base64url").slice(0, 8);
  }

  seal(secret: string, endpointId: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(endpointId));
    const ciphertext = Buffer.concat([cipher.update(secret, "utf8"), cipher.final()]);
    return ["v1", this.#keyId, iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), ciphertext.toString("base64url")].join(".");
  }

  open(sealed: string, endpointId: string): string {
    const [version, keyId, iv, tag, ciphertext] = sealed.split(".");
    if (version !== "v1" || !iv || !tag || ciphertext === undefined) throw new SealedSecretError("not a sealed secret");
    if (keyId !== this.#keyId) throw new SealedSecretError("sealed under another PARTNER_WEBHOOKS_SECRET_KEY");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
      decipher.setAAD(Buffer.from(endpointId));
      decipher.setAuthTag(Buffer.from(tag, "base64url"));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new SealedSecretError("the sealed secret does not open (altered, or another endpoint's)");
    }
  }
}
