/**
 * The settings of outbound partner webhooks (src/partners/): the variables, merged into the
 * environment's schema (env.schema.ts), and their typed form.
 */
import { z } from "zod";

const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const flag = z
  .enum(["true", "false", "1", "0", "yes", "no", "on", "off"])
  .transform((v) => ["true", "1", "yes", "on"].includes(v));
const list = z
  .string()
  .optional()
  .transform((v) => {
    const items = (v ?? "").split(",").map((item) => item.trim()).filter(Boolean);
    return items.length > 0 ? items : undefined;
  });

/** Svix's retries after the first (immediate) attempt: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (about 28 h in all). */
export const DEFAULT_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000";

/** Delays in seconds as written, or null when the text is not 1 to 20 of them, each 0..604800. */
function scheduleSeconds(text: string): number[] | null {
  const seconds = text.split(",").map((part) => Number(part.trim()));
  return seconds.length >= 1 && seconds.length <= 20 && seconds.every((s) => Number.isFinite(s) && s >= 0 && s <= 7 * 86_400) ? seconds : null;
}

const schedule = z
  .string()
  .default(DEFAULT_RETRY_SCHEDULE)
  .refine((text) => scheduleSeconds(text) !== null, "1 to 20 comma-separated delays in seconds, each 0..604800");

const secretKey = z
  .string()
  .optional()
  .transform((text, ctx) => {
    if (text === undefined || text.trim() === "") return undefined;
    const key = Buffer.from(text.trim(), "base64");
    if (key.length !== 32) {
      ctx.addIssue({ code: "custom", message: "must be 32 bytes in base64 (e.g. `openssl rand -base64 32`)" });
      return z.NEVER;
    }
    return key;
  });

export const partnerWebhookEnv = {
  PARTNER_WEBHOOKS_SECRET_KEY: secretKey.describe(
    "Encrypts partner webhook signing secrets at rest (AES-256-GCM): 32 bytes in base64 (`openssl rand -base64 32`). Absent: partner endpoints cannot be created or rotated (INVALID_STATE) and nothing is delivered to existing ones (their deliveries wait). See docs/partner-webhooks.md.",
  ),
  PARTNER_WEBHOOKS_ALLOW_HTTP: flag.default(false).describe("Accept `http://` partner webhook URLs (tests, private deployments); default: `https://` only."),
  PARTNER_WEBHOOKS_ALLOW_HOSTS: list.describe(
    "Comma-separated host names, IP addresses or CIDR ranges partner webhooks may reach although loopback, private, link-local or otherwise not public (tests, private deployments). Absent: public unicast addresses only, checked when an endpoint is saved and again at every connection.",
  ),
  PARTNER_WEBHOOKS_TIMEOUT_MS: int(100, 60_000)
    .default(10_000)
    .describe("How long a partner has to answer a delivery (connecting: at most 5 s of it); a 2xx within it is a success, anything else a failed attempt."),
  PARTNER_WEBHOOKS_RETRY_SCHEDULE: schedule.describe(
    "Comma-separated delays in seconds before each retry of a failed delivery (the first attempt is immediate; each delay ±20 % jitter). When the last retry fails the delivery is given up, and its endpoint disabled if it has had no success since that delivery's first attempt.",
  ),
  PARTNER_WEBHOOKS_CONCURRENCY: int(1, 64)
    .default(4)
    .describe("Deliveries in flight to one endpoint at once, over all instances; each consultation's events still go one at a time, in order."),
  PARTNER_WEBHOOKS_ROTATION_OVERLAP_HOURS: int(0, 24 * 30)
    .default(24)
    .describe("After `rotatePartnerEndpointSecret`, how long deliveries are also signed with the old secret (both signatures in `webhook-signature`)."),
};

type PartnerWebhookEnv = { [K in keyof typeof partnerWebhookEnv]: z.infer<(typeof partnerWebhookEnv)[K]> };

export interface PartnerWebhookConfig {
  /** Seals the endpoints' signing secrets; null: endpoints cannot be created or delivered to. */
  secretKey: Buffer | null;
  allowHttp: boolean;
  allowHosts: string[];
  timeoutMs: number;
  /** Milliseconds before each retry (the first attempt is immediate). */
  retryScheduleMs: number[];
  concurrency: number;
  rotationOverlapHours: number;
}

export function partnerWebhookConfig(e: PartnerWebhookEnv): PartnerWebhookConfig {
  return {
    secretKey: e.PARTNER_WEBHOOKS_SECRET_KEY ?? null,
    allowHttp: e.PARTNER_WEBHOOKS_ALLOW_HTTP,
    allowHosts: e.PARTNER_WEBHOOKS_ALLOW_HOSTS ?? [],
    timeoutMs: e.PARTNER_WEBHOOKS_TIMEOUT_MS,
    retryScheduleMs: scheduleSeconds(e.PARTNER_WEBHOOKS_RETRY_SCHEDULE)!.map((s) => Math.round(s * 1000)),
    concurrency: e.PARTNER_WEBHOOKS_CONCURRENCY,
    rotationOverlapHours: e.PARTNER_WEBHOOKS_ROTATION_OVERLAP_HOURS,
  };
}
