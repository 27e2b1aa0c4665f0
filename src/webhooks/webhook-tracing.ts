/**
 * The apply's span (docs/tracing.md): one per batch applied, in the trace of the first
 * webhook of the batch that was received here (its context carried with the envelope through
 * the queue, kit/tracing.ts `carry`), linked to the other webhooks' receipts. Under light load
 * a batch is one webhook, and its trace runs unbroken from the receipt to the frames pushed.
 * Events read back from the inbox (a restart, a retry) carry no context: a new trace.
 */
import { carriedBy, inSpan, tracingEnabled } from "../kit/tracing.js";
import type { Envelope } from "./envelope.js";

export function applySpan<T>(batch: readonly Envelope[], run: () => Promise<T>): Promise<T> {
  if (!tracingEnabled()) return run();
  const received = batch.flatMap((envelope) => carriedBy(envelope) ?? []);
  return inSpan("webhook apply", run, {
    parent: received[0] ?? null,
    links: received.slice(1),
    attributes: () => ({ "hms.webhook.count": batch.length, "hms.webhook.ids": batch.map((e) => e.id) }),
  });
}
