import { createHash, createHmac } from "node:crypto";
import type { WebhookTarget } from "./hms-webhook-sender.js";
import type { HmsWebhook } from "./hms-webhooks.js";

/**
 * One webhook POST as 100ms makes it (reference §4.1–4.2): JSON body, the static custom
 * headers, and in HIPAA workspaces `x-100ms-signature` over the exact bytes sent.
 */
export async function send(target: Required<WebhookTarget>, event: HmsWebhook, closing: AbortSignal): Promise<number | null> {
  const body = JSON.stringify(event);
  const signature: Record<string, string> = target.signingSecret
    ? { "x-100ms-signature": createHmac("sha256", target.signingSecret).update(body).digest("hex") }
    : {};
  try {
    const response = await fetch(target.url, {
      method: "POST",
      headers: { ...target.headers, ...signature, "content-type": "application/json" },
      body,
      signal: AbortSignal.any([closing, AbortSignal.timeout(target.timeoutMs)]),
    });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return null;
  }
}

/** HIPAA workspaces hash `room_name` and `user_name` (SHA-256, hex) in every webhook. */
export function hashNames(event: HmsWebhook): HmsWebhook {
  const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
  const data: Record<string, unknown> = { ...event.data };
  for (const key of ["room_name", "user_name"]) if (typeof data[key] === "string") data[key] = sha256(data[key] as string);
  return { ...event, data } as unknown as HmsWebhook;
}

