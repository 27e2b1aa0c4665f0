/**
 * Taking a 100ms webhook in: durable before acknowledged. The raw event is in the inbox
 * before the answer, and the webhook queue applies it right after (100ms does not wait on
 * our projection). A redelivery changes nothing; an event stored but not applied yet (say,
 * before a restart) is queued again. When the database cannot take it, the answer says so
 * and 100ms retries.
 */
import type { Db } from "../db/client.js";
import type { Logger } from "../kit/logger.js";
import { carry, inSpan, tagActiveSpan } from "../kit/tracing.js";
import { parseEnvelope } from "./envelope.js";
import { InboxWriter } from "./inbox-writer.js";
import type { WebhookApplier } from "./webhook-queue.js";

/** `accepted`: this delivery will be applied; `duplicate`: it changes nothing. */
export type IntakeOutcome = "accepted" | "duplicate" | "invalid" | "unavailable";

export interface WebhookIntakeDeps {
  db: Db;
  queue: Pick<WebhookApplier, "enqueue">;
  logger: Logger;
  /** Counts refusals and duplicates (accepted events are counted when applied). */
  count: (type: string, outcome: "rejected" | "duplicate") => void;
}

export class WebhookIntake {
  readonly #writer: InboxWriter;

  constructor(private readonly deps: WebhookIntakeDeps) {
    this.#writer = new InboxWriter(deps.db);
  }

  /** Stores an authenticated delivery's body and queues it; says what became of it. */
  async accept(body: Buffer): Promise<IntakeOutcome> {
    const envelope = parseEnvelope(body);
    if (!envelope) {
      this.deps.count("invalid", "rejected");
      return "invalid";
    }
    tagActiveSpan(() => ({ "hms.webhook.id": envelope.id, "hms.webhook.type": envelope.type }));
    let stored;
    try {
      stored = await inSpan("webhook inbox store", () => this.#writer.store(envelope));
    } catch (error) {
      this.deps.logger.error({ errorClass: (error as Error).name, webhookId: envelope.id }, "webhook not stored: database unavailable");
      return "unavailable";
    }
    if (stored === "processed") {
      this.deps.count(envelope.type, "duplicate");
      return "duplicate";
    }
    carry(envelope); // the apply's span continues this trace (kit/tracing.ts)
    this.deps.queue.enqueue(envelope);
    return "accepted";
  }
}
